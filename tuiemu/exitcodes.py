"""The process exit statuses tuiemu itself gives (otherwise the status is the guest's own)."""

EXIT_LOAD_ERROR = 2    # the ELF cannot be loaded, or the options are wrong
EXIT_UNHANDLED = 3     # the guest took an exception with no vector table to go to
EXIT_INTERNAL = 70     # an emulator bug (EX_SOFTWARE)
EXIT_OUTPUT = 74       # the guest's output could not be written (EX_IOERR: disk full, ...)
EXIT_MAX_INSNS = 124   # --max-insns reached (as timeout(1) reports a timeout)
EXIT_ASLEEP = 125      # every vCPU sleeps and nothing is left that could wake one
EXIT_QUIT = 130        # the user ended the run before the guest did (128 + SIGINT)
EXIT_KILLED = 137      # gdb's kill (128 + SIGKILL, as for a killed process)
EXIT_PIPE = 141        # stdout was closed by its reader (128 + SIGPIPE, as `head` expects)
