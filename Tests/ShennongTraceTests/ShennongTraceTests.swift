import ShennongTrace
import Testing
