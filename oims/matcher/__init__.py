"""The app's side of the matcher: the one place the app talks to `matching/`.

- `service`: the one door: the process's `MatchingService` (a facade) and the functions features call;
- `documents`: what the index holds for each need, proposal and organisation;
- `encoders`: loading the encoder once per process;
- `upkeep`: the background threads (embedded worker, follower), or the same work inline;
- `search`: ranking against the in-memory index with stored query vectors;
- `sessions`: the matcher's own database sessions;
- `events`: ORM events that append every change to the change log;
- `changelog`: appending to the change log outside the ORM, following it from a position;
- `worker`: the encoding worker (the one place texts are encoded);
- `mirror`: each process's in-memory index, a cache of the stored vectors;
- `cache`: ranked lists cached per (query version, index generation);
- `bands`: calibrated scores turned into 高 / 中 / 低 bands.
"""
