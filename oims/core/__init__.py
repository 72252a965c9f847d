"""Building blocks every feature uses and none owns: the service layer's
exceptions, conditional state changes, dates in Japan's time zone, the bilingual
reference lists and the e-mail outbox. Nothing here imports a feature package."""
