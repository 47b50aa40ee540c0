import ShennongRules
import Testing
