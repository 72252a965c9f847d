"""The app's side of the matcher: the one place the app talks to `matching/`.

- `service`: the process's matcher (encoders, index, search) behind `MatchingService`;
- `events`: ORM events that append every change to the change log;
- `changelog`: following the change log from a position;
- `worker`: the encoding worker (the one place texts are encoded);
- `mirror`: each process's in-memory index, a cache of the stored vectors;
- `cache`: ranked lists cached per (query version, index generation);
- `bands`: calibrated scores turned into 高 / 中 / 低 bands.
"""
