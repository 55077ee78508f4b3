"""The follow graph and the counters it moves."""
