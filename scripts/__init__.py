"""The project's maintenance scripts; run the Python ones as modules from the checkout,
e.g. ``.venv/bin/python -m scripts.make_sample``."""
