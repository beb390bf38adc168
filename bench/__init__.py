"""The earthquake-morning benchmark: BCP Board under load, beside the framework's ceiling.

Run `python -m bench.run` (see bench/run.py and bench/README.md).
"""
