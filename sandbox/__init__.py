"""A local QuickBooks Online emulator (HTTP) for the demo and the tests. Imports nothing of autobill's.

``start_emulator(port=0, ...)`` serves it from background threads of this process; ``autobill sandbox``
runs the same server from the command line. See docs/sandbox.md.
"""

from sandbox.emulator import Emulator, start_emulator

__all__ = ["Emulator", "start_emulator"]
