"""The offline check: run a Pulumi Python program under a recording mock monitor, start the pack
exactly as the CLI does, and drive it over the analyzer gRPC protocol — no CLI, plugin or cloud.

program runner (runner.py, in a child process) -> analyzer client (client.py) -> reports (reports.py),
orchestrated by check.py.
"""
