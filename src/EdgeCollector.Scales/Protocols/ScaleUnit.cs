namespace EdgeCollector.Scales;

/// <summary>Mass units weight indicators send.</summary>
public enum ScaleUnit
{
    /// <summary>Kilogram.</summary>
    Kg = 0,

    /// <summary>Gram.</summary>
    G = 1,

    /// <summary>Metric tonne.</summary>
    T = 2,

    /// <summary>Avoirdupois pound (0.45359237 kg exactly, by the 1959 international agreement).</summary>
    Lb = 3,
}

/// <summary>Conversions between <see cref="ScaleUnit"/> and kilograms, exact in <see cref="decimal"/>.</summary>
public static class ScaleUnits
{
    private const decimal KgPerLb = 0.45359237m;

    /// <summary>Converts <paramref name="value"/> in <paramref name="unit"/> to kilograms.</summary>
    public static decimal ToKg(decimal value, ScaleUnit unit) => unit switch
    {
        ScaleUnit.Kg => value,
        ScaleUnit.G => value / 1000m,
        ScaleUnit.T => value * 1000m,
        ScaleUnit.Lb => value * KgPerLb,
        _ => throw new ArgumentOutOfRangeException(nameof(unit), unit, "Unknown unit."),
    };

    /// <summary>Converts kilograms to <paramref name="unit"/>, rounded to <paramref name="decimals"/> places.</summary>
    public static decimal FromKg(decimal kg, ScaleUnit unit, int decimals) => Math.Round(unit switch
    {
        ScaleUnit.Kg => kg,
        ScaleUnit.G => kg * 1000m,
        ScaleUnit.T => kg / 1000m,
        ScaleUnit.Lb => kg / KgPerLb,
        _ => throw new ArgumentOutOfRangeException(nameof(unit), unit, "Unknown unit."),
    }, decimals, MidpointRounding.AwayFromZero);

    /// <summary>
    /// Parses a unit as configured (<c>"kg"</c>, <c>"g"</c>, <c>"t"</c>, <c>"lb"</c>), case-insensitively.
    /// </summary>
    public static bool TryParse(string? text, out ScaleUnit unit)
    {
        switch (text?.Trim().ToUpperInvariant())
        {
            case "KG": unit = ScaleUnit.Kg; return true;
            case "G": unit = ScaleUnit.G; return true;
            case "T": unit = ScaleUnit.T; return true;
            case "LB": unit = ScaleUnit.Lb; return true;
            default: unit = ScaleUnit.Kg; return false;
        }
    }

    /// <summary>Parses a unit as it appears on the wire (ASCII, case-insensitive, no padding).</summary>
    internal static bool TryParse(ReadOnlySpan<byte> ascii, out ScaleUnit unit)
    {
        unit = ScaleUnit.Kg;
        if (ascii.Length == 1)
        {
            switch (ascii[0] | 0x20)
            {
                case 'g': unit = ScaleUnit.G; return true;
                case 't': unit = ScaleUnit.T; return true;
                default: return false;
            }
        }

        if (ascii.Length == 2)
        {
            int a = ascii[0] | 0x20, b = ascii[1] | 0x20;
            if (a == 'k' && b == 'g') { unit = ScaleUnit.Kg; return true; }
            if (a == 'l' && b == 'b') { unit = ScaleUnit.Lb; return true; }
        }

        return false;
    }

    /// <summary>The unit as the A&amp;D, MT-SICS and XK3190-A12 formats spell it.</summary>
    internal static string WireName(ScaleUnit unit) => unit switch
    {
        ScaleUnit.Kg => "kg",
        ScaleUnit.G => "g",
        ScaleUnit.T => "t",
        ScaleUnit.Lb => "lb",
        _ => throw new ArgumentOutOfRangeException(nameof(unit), unit, "Unknown unit."),
    };
}
