// Store benchmark: see issue 3. Placeholder until it lands.
print("StoreBench: not written yet")
