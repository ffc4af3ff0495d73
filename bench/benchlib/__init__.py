"""The benchmark runner's parts: building the peers, running processes, the metrics, the report."""
