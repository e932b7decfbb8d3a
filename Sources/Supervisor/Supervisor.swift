import CTraceShims
import CSeccomp
import TraceModel
