"""The Jupyter kernel manager of the notebook builds: their output is the build's own lines, nothing else."""

from __future__ import annotations

import tempfile
import uuid

from jupyter_client.manager import AsyncKernelManager
from traitlets import default


class QuietKernelManager(AsyncKernelManager):
    """A kernel that prints nothing of its own into a build's output (make report, make analysis-notebooks):
    it talks to its client over local sockets (ipc, so ipykernel has no unencrypted TCP to warn about),
    and once every cell has run it is shut down without the SIGINT jupyter_client sends first (which an idle kernel reports as a
    "KeyboardInterrupt caught in kernel" error although nothing was interrupted)."""

    @default("transport")
    def _transport_default(self) -> str:
        return "ipc"

    @default("ip")
    def _ip_default(self) -> str:
        # The socket files' prefix. jupyter_client's default is a relative path, which the client resolves
        # from its own working directory and the kernel from the notebook's: they differ in every build
        # (the builds run from the repository root, the kernels in notebooks/), so the kernel never answers.
        return f"{tempfile.gettempdir()}/aees-kernel-{uuid.uuid4().hex[:12]}"

    async def _async_interrupt_kernel(self) -> None:
        if not self.shutting_down:
            await super()._async_interrupt_kernel()
