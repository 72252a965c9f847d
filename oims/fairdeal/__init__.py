"""Fair dealing built in: the key terms of a case's NDA and PoC recorded by
the parties, warnings on the patterns the METI/JFTC guideline for startup
collaboration flags, and private reports of problems to the bureau."""
