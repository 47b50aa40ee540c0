// Trace page benchmark (issue 5): not written yet.
print("TraceBench: not written yet")
