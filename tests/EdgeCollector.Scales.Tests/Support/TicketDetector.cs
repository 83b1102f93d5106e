namespace EdgeCollector.Scales.Tests.Support;

/// <summary>A ticket as product.md "Scale tickets" defines it.</summary>
internal sealed record Ticket(DateTimeOffset StableAt, decimal GrossKg, ScaleReading Reading);

/// <summary>
/// Test-side stand-in for the engine's ticket detector, applying product.md "Scale tickets" to
/// the readings of one scale. It lives here only until the engine (src/EdgeCollector.Core) has
/// its own; end-to-end tests then switch to that.
/// </summary>
/// <remarks>
/// A load starts when the gross weight rises above ZeroBandKg. It is stable at the first reading t
/// for which some reading at or before t − StableSeconds begins a run of consecutive readings, up to
/// and including t, all within StableBandKg of each other (max − min) and none in motion. One
/// ticket per load at that reading with its weight; none again until the weight is back within
/// ZeroBandKg of zero. Readings in motion still count for load start and return to zero.
/// Reading of the rule chosen here: a run starts no earlier than the reading that started the load.
/// </remarks>
internal sealed class TicketDetector(decimal zeroBandKg, decimal stableBandKg, TimeSpan stableTime)
{
    private readonly List<ScaleReading> _run = [];
    private bool _loaded, _ticketed;

    public List<Ticket> Tickets { get; } = [];

    public Ticket? Add(ScaleReading reading)
    {
        if (!_loaded)
        {
            if (reading.GrossKg <= zeroBandKg)
            {
                return null;
            }

            _loaded = true;
            _ticketed = false;
            _run.Clear();
        }
        else if (Math.Abs(reading.GrossKg) <= zeroBandKg)
        {
            _loaded = false;
            _run.Clear();
            return null;
        }

        if (_ticketed)
        {
            return null;
        }

        if (reading.Motion == true)
        {
            _run.Clear();
            return null;
        }

        // Keep the longest run ending here whose spread is within the band: if any run starting at
        // or before t − StableSeconds qualifies, the longest one does.
        _run.Add(reading);
        while (_run.Max(r => r.GrossKg) - _run.Min(r => r.GrossKg) > stableBandKg)
        {
            _run.RemoveAt(0);
        }

        if (_run[0].Timestamp > reading.Timestamp - stableTime)
        {
            return null;
        }

        _ticketed = true;
        var ticket = new Ticket(reading.Timestamp, reading.GrossKg, reading);
        Tickets.Add(ticket);
        return ticket;
    }
}
