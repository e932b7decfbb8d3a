import CLibdw
import TraceModel
