"""What the peer scripts name beside their timings: the processor's model."""


def cpu_model():
    """The processor's model name as /proc/cpuinfo gives it ("unknown CPU"
    where it cannot be read)."""
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f
                        if line.startswith("model name"))
    except (OSError, StopIteration):
        return "unknown CPU"
