using EdgeCollector.Core.Configuration;

namespace EdgeCollector.Configuration;

/// <summary>
/// The outcome of reading a configuration: the model when it is valid, otherwise every problem
/// found, one message each, naming the path of the bad key (<c>Sources[1].Tags[0].WordOrder: …</c>).
/// </summary>
public sealed class ConfigLoadResult
{
    internal ConfigLoadResult(EdgeConfig? config, IReadOnlyList<string> errors, string origin)
    {
        Config = errors.Count == 0 ? config : null;
        Errors = errors;
        Origin = origin;
    }

    /// <summary>The validated configuration; null when <see cref="Errors"/> is not empty.</summary>
    public EdgeConfig? Config { get; }

    /// <summary>Every problem found, in file order within each check; empty when the configuration is valid.</summary>
    public IReadOnlyList<string> Errors { get; }

    /// <summary>Where the configuration came from, for the start-up log: a full file path or <c>embedded demo.json</c>.</summary>
    public string Origin { get; }

    /// <summary>True when the configuration is valid and <see cref="Config"/> is set.</summary>
    public bool IsValid => Config is not null;
}
