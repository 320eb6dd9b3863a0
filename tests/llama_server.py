"""llama-cpp-python's own OpenAI-compatible server, started the way driftcheck loads an
in-process model: with `providers.local.plain_weight_buffers`, so that a native build
with AMX kernels does not die with SIGILL on a host that does not enable AMX. The server
code is theirs, unchanged; only the weights' buffer type is chosen here.

    python -m tests.llama_server --model PATH [llama_cpp.server options]
"""

from __future__ import annotations

import llama_cpp
from llama_cpp.server.__main__ import main

from providers.local import plain_weight_buffers

if __name__ == "__main__":
    # The server loads its model inside main(); the wrapper stays on for its lifetime,
    # which only ever affects that one load.
    with plain_weight_buffers(llama_cpp):
        main()
