print("IngestBench: not written yet")
