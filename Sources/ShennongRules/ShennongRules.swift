/// Early warnings: rule model, presets, stateful evaluator, alert lifecycle, notifiers.
/// (DESIGN.md, "Warnings".)
public enum ShennongRules {}
