"""matcalc's benchmarks: ``python -m benchmarks`` runs the suite (see run.py)."""
