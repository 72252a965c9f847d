"""WSGI entry of the benchmarks' gunicorn: the app with its instance folder
in the benchmark's temporary directory (configuration from OIMS_* variables)."""

import os

from oims import create_app

app = create_app({"INSTANCE_PATH": os.environ["OIMS_BENCH_INSTANCE"]})
