/// Traceability (一物一码): producers, plots, batches, codes, stage events, hash chain,
/// scans, EPCIS / GS1 Digital Link. (DESIGN.md, "Traceability".)
public enum ShennongTrace {}
