"""A local QuickBooks Online emulator (HTTP) for the demo and the tests. Imports nothing of autobill's."""
