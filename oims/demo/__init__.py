"""The demo data: `data` reads the TOML files in `oims/data/demo/`, `loader`
loads them idempotently (`flask oims demo`)."""
