using System.Globalization;

namespace EdgeCollector.Simulators.Live;

/// <summary>What a fault switch does.</summary>
public enum PlantFaultKind
{
    /// <summary>The device disappears (listener closed, connections reset) for <see cref="PlantFault.For"/>, then comes back on the same port.</summary>
    Drop,
    /// <summary>A Modbus device stops answering (the TCP link stays up) for <see cref="PlantFault.For"/>.</summary>
    Stall,
    /// <summary>The OPC UA server is stopped and started again on the same port (after <see cref="PlantFault.For"/>, default at once).</summary>
    Restart,
    /// <summary><see cref="PlantFault.Percent"/> % of a scale's frames are damaged (flipped byte, truncated, garbage) for <see cref="PlantFault.For"/> (default: to the end).</summary>
    Corrupt,
    /// <summary>A totaliser is reset to zero and counts on from there.</summary>
    Reset,
    /// <summary>A totaliser rolls over its modulus (its <c>Counter.Max</c> in the collector config) at the given instant.</summary>
    Rollover,
}

/// <summary>
/// One scheduled fault, in simulated time from the scenario start. Command-line form:
/// <c>KIND:TARGET[@AT][+FOR][=PERCENT]</c>, times as <c>90s</c>, <c>15m</c>, <c>1.5h</c> — e.g.
/// <c>drop:F1-charge@1h+10m</c>, <c>stall:F2.PowerTotal@2h+5m</c>, <c>restart:plc@3h</c>,
/// <c>corrupt:F1-tap=5</c>, <c>reset:F1.PowerTotal@2h</c>, <c>rollover:F2.GasTotal@90m</c>.
/// Targets: a scale (<c>F1-charge</c>), a meter tag (<c>F1.GasTotal</c>, <c>F1.PowerTotal</c>,
/// <c>Aux.PowerTotal</c>), <c>plc</c> (the OPC UA server), <c>meters</c> (the Modbus TCP slave),
/// <c>aux</c> (the auxiliary meter's line), <c>scales</c> (every scale, corrupt only).
/// </summary>
public sealed record PlantFault(PlantFaultKind Kind, string Target, TimeSpan At, TimeSpan? For, double Percent)
{
    /// <summary>Reads the command-line form; throws <see cref="FormatException"/> naming the problem.</summary>
    public static PlantFault Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon < 1 || !Enum.TryParse<PlantFaultKind>(text[..colon], ignoreCase: true, out var kind) || int.TryParse(text[..colon], out _))
        {
            throw new FormatException($"--fault '{text}': expected KIND:TARGET[@AT][+FOR][=PERCENT] with KIND one of {string.Join(", ", Enum.GetNames<PlantFaultKind>()).ToLowerInvariant()}");
        }

        string rest = text[(colon + 1)..];
        double percent = 0;
        int eq = rest.IndexOf('=', StringComparison.Ordinal);
        if (eq >= 0)
        {
            string p = rest[(eq + 1)..].TrimEnd('%');
            if (!double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out percent) || percent is < 0 or > 100)
            {
                throw new FormatException($"--fault '{text}': percent '{p}' must be 0 … 100");
            }

            rest = rest[..eq];
        }

        TimeSpan? duration = null;
        int plus = rest.IndexOf('+', StringComparison.Ordinal);
        if (plus >= 0)
        {
            duration = Duration(rest[(plus + 1)..], text);
            rest = rest[..plus];
        }

        var at = TimeSpan.Zero;
        int atSign = rest.IndexOf('@', StringComparison.Ordinal);
        if (atSign >= 0)
        {
            at = Duration(rest[(atSign + 1)..], text);
            rest = rest[..atSign];
        }

        if (rest.Length == 0)
        {
            throw new FormatException($"--fault '{text}': the target is missing");
        }

        if (kind == PlantFaultKind.Corrupt && eq < 0)
        {
            throw new FormatException($"--fault '{text}': corrupt needs =PERCENT");
        }

        if (kind is PlantFaultKind.Drop or PlantFaultKind.Stall && duration is null)
        {
            throw new FormatException($"--fault '{text}': {kind.ToString().ToLowerInvariant()} needs +FOR");
        }

        return new PlantFault(kind, rest, at, duration, percent);
    }

    /// <summary><c>90s</c>, <c>15m</c>, <c>1.5h</c> (a bare number is seconds).</summary>
    public static TimeSpan Duration(string text, string context)
    {
        ArgumentNullException.ThrowIfNull(text);
        double factor = 1;
        string number = text;
        if (text.EndsWith('h'))
        {
            factor = 3600;
            number = text[..^1];
        }
        else if (text.EndsWith('m'))
        {
            factor = 60;
            number = text[..^1];
        }
        else if (text.EndsWith('s'))
        {
            number = text[..^1];
        }

        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || value < 0 || value * factor > 31 * 86400)
        {
            throw new FormatException($"'{context}': '{text}' is not a duration (90s, 15m, 1.5h)");
        }

        return TimeSpan.FromSeconds(value * factor);
    }

    /// <summary>The command-line form.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Kind.ToString().ToLowerInvariant()}:{Target}@{At.TotalSeconds}s{(For is { } f ? $"+{f.TotalSeconds}s" : "")}{(Kind == PlantFaultKind.Corrupt ? $"={Percent}" : "")}");
}
