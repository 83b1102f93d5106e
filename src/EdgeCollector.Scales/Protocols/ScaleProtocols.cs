namespace EdgeCollector.Scales;

/// <summary>
/// The registry of weight-indicator protocols by their config names
/// (contracts.md §1, <c>"Protocol"</c> of a <c>"Type": "Scale"</c> source).
/// </summary>
public static class ScaleProtocols
{
    /// <summary>Yaohua XK3190-A9 continuous, see <see cref="Xk3190A9Codec"/>.</summary>
    public const string Xk3190A9 = "XK3190-A9";

    /// <summary>The "=" reversed-digit mode, see <see cref="Xk3190A9ReversedCodec"/>.</summary>
    public const string Xk3190A9Reversed = "XK3190-A9-Reversed";

    /// <summary>Yaohua XK3190-A12(E) text, see <see cref="Xk3190A12Codec"/>.</summary>
    public const string Xk3190A12 = "XK3190-A12";

    /// <summary>METTLER TOLEDO standard continuous, see <see cref="ToledoContinuousCodec"/>.</summary>
    public const string ToledoContinuous = "Toledo-Continuous";

    /// <summary>MT-SICS weight responses, see <see cref="MtSicsCodec"/>.</summary>
    public const string MtSics = "MT-SICS";

    /// <summary>A&amp;D standard format, see <see cref="AndCodec"/>.</summary>
    public const string And = "AND";

    private static readonly Dictionary<string, Func<ScaleUnit, ScaleCodec>> Factories = new(StringComparer.OrdinalIgnoreCase)
    {
        [Xk3190A9] = unit => new Xk3190A9Codec(unit),
        [Xk3190A9Reversed] = unit => new Xk3190A9ReversedCodec(unit),
        [Xk3190A12] = unit => new Xk3190A12Codec(unit),
        [ToledoContinuous] = unit => new ToledoContinuousCodec(unit),
        [MtSics] = unit => new MtSicsCodec(unit),
        [And] = unit => new AndCodec(unit),
    };

    /// <summary>Every config name, in the order contracts.md lists them.</summary>
    public static IReadOnlyList<string> Names { get; } = [Xk3190A9, Xk3190A9Reversed, Xk3190A12, ToledoContinuous, MtSics, And];

    /// <summary>
    /// Creates the codec for a config name (case-insensitive). <paramref name="unit"/> is the
    /// source's <c>"Unit"</c>: the unit of frames that do not state one.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not a known protocol; the message lists the known ones.</exception>
    public static ScaleCodec Create(string name, ScaleUnit unit = ScaleUnit.Kg) =>
        TryCreate(name, unit, out var codec)
            ? codec
            : throw new ArgumentException($"'{name}' is not one of {string.Join(" | ", Names)}.", nameof(name));

    /// <summary>Creates the codec for a config name, or returns false when the name is unknown.</summary>
    public static bool TryCreate(string? name, ScaleUnit unit, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ScaleCodec? codec)
    {
        if (name is not null && Factories.TryGetValue(name.Trim(), out var factory))
        {
            codec = factory(unit);
            return true;
        }

        codec = null;
        return false;
    }
}
