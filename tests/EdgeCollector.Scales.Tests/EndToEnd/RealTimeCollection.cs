namespace EdgeCollector.Scales.Tests.EndToEnd;

/// <summary>
/// End-to-end tests time-stamp readings on arrival, like the collector: they run alone, after the
/// CPU-heavy unit tests (the fuzz test), so that a stall of this process does not squeeze a load's
/// sitting time below StableSeconds.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RealTimeCollection
{
    public const string Name = "real-time end to end";
}
