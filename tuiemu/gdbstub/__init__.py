"""GDB remote stub: every vCPU a gdb thread, all-stop and non-stop.

Modules: ``packets`` (framing, checksums, escaping, the packet reader),
``server`` (TCP listener, one session thread per client), ``stub`` (protocol
state and dispatch), ``regs``, ``memory``, ``breakpoints``, ``execution``
(resume, step, stop replies), ``queries`` (q/Q packets), ``monitor``
(``monitor`` commands), ``threads`` (thread ids and states), ``target_xml``.
Entry point: ``server.GdbServer(machine, host, port).start()``.
"""
