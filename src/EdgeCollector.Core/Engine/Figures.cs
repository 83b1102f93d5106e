using EdgeCollector.Core.Configuration;

namespace EdgeCollector.Core.Engine;

/// <summary>
/// Additive quantities of one entity over some stretch of time. Every window's published
/// figures are one of these; ratios are derived from it when a window is published
/// (<see cref="KpiFigures"/>), never stored, so sums of windows stay sums.
/// </summary>
public sealed class Figures
{
    /// <summary>Material index used for charges with no pick and no default: counted as primary, published as null.</summary>
    public const int UnknownMaterial = 6;
    public const int MaterialSlots = 7;

    public double ChargedKg;
    public double TappedKg;
    public double DrossKg;
    public double GasNm3;
    public double ElectricityKWh;
    public double EnergyGJ;
    public double Scope1TCO2;
    /// <summary>Charged kg per material (index = (int)<see cref="Material"/>, 6 = unknown).</summary>
    public double[] ChargedByMaterial = new double[MaterialSlots];
    /// <summary>Charged kg × the material's yield factor (CMI net weight), same indexing.</summary>
    public double[] NetByMaterial = new double[MaterialSlots];

    public bool IsZero =>
        ChargedKg == 0 && TappedKg == 0 && DrossKg == 0 && GasNm3 == 0 && ElectricityKWh == 0
        && EnergyGJ == 0 && Scope1TCO2 == 0;

    public void Add(Figures other, double fraction = 1.0)
    {
        ChargedKg += other.ChargedKg * fraction;
        TappedKg += other.TappedKg * fraction;
        DrossKg += other.DrossKg * fraction;
        GasNm3 += other.GasNm3 * fraction;
        ElectricityKWh += other.ElectricityKWh * fraction;
        EnergyGJ += other.EnergyGJ * fraction;
        Scope1TCO2 += other.Scope1TCO2 * fraction;
        for (int i = 0; i < MaterialSlots; i++)
        {
            ChargedByMaterial[i] += other.ChargedByMaterial[i] * fraction;
            NetByMaterial[i] += other.NetByMaterial[i] * fraction;
        }
    }

    public void AddEnergy(double gasNm3, double kWh, double energyGJ, double scope1, double fraction)
    {
        GasNm3 += gasNm3 * fraction;
        ElectricityKWh += kWh * fraction;
        EnergyGJ += energyGJ * fraction;
        Scope1TCO2 += scope1 * fraction;
    }

    /// <summary>Adds (sign +1) or removes (sign −1) one weighing ticket.</summary>
    public void AddTicket(ScaleRole role, int materialIndex, double kg, double netKg, double sign)
    {
        switch (role)
        {
            case ScaleRole.Charge:
                ChargedKg += sign * kg;
                ChargedByMaterial[materialIndex] += sign * kg;
                NetByMaterial[materialIndex] += sign * netKg;
                break;
            case ScaleRole.Tap:
                TappedKg += sign * kg;
                break;
            case ScaleRole.Dross:
                DrossKg += sign * kg;
                break;
        }
    }

    public Figures Clone()
    {
        var copy = new Figures();
        copy.Add(this);
        return copy;
    }
}
