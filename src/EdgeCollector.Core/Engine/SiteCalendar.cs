namespace EdgeCollector.Core.Engine;

/// <summary>
/// Shift and day windows in the site's time zone (product.md "Time"): a day runs from local
/// midnight to the next; a shift from one configured local start to the next. Boundaries are
/// returned as UTC ticks, so DST days are simply 23 or 25 hours long.
/// </summary>
public sealed class SiteCalendar
{
    private readonly TimeZoneInfo _zone;
    private readonly TimeOnly[] _shiftStarts;

    public SiteCalendar(TimeZoneInfo zone, IEnumerable<TimeOnly> shiftStarts)
    {
        _zone = zone;
        _shiftStarts = shiftStarts.Distinct().Order().ToArray();
        if (_shiftStarts.Length == 0)
        {
            _shiftStarts = [new TimeOnly(0, 0)];
        }
    }

    public TimeZoneInfo Zone => _zone;

    public DateTime ToLocal(long utcTicks) => TimeZoneInfo.ConvertTimeFromUtc(new DateTime(utcTicks, DateTimeKind.Utc), _zone);

    /// <summary>UTC ticks of a local wall-clock time; a time skipped by DST maps to the first instant after the gap.</summary>
    public long ToUtcTicks(DateTime local)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        while (_zone.IsInvalidTime(local))
        {
            local = local.AddMinutes(1);
        }

        // For an ambiguous time (clocks going back) ConvertTimeToUtc takes the standard-time
        // reading, i.e. the second occurrence; we want the first, which has the larger offset.
        if (_zone.IsAmbiguousTime(local))
        {
            var offset = _zone.GetAmbiguousTimeOffsets(local).Max();
            return new DateTimeOffset(local, offset).UtcTicks;
        }

        return TimeZoneInfo.ConvertTimeToUtc(local, _zone).Ticks;
    }

    public (long Start, long End) DayContaining(long utcTicks)
    {
        var localDate = ToLocal(utcTicks).Date;
        long start = ToUtcTicks(localDate);
        if (start > utcTicks)
        {
            localDate = localDate.AddDays(-1);
            start = ToUtcTicks(localDate);
        }

        return (start, ToUtcTicks(localDate.AddDays(1)));
    }

    public (long Start, long End) ShiftContaining(long utcTicks)
    {
        var local = ToLocal(utcTicks);
        var date = local.Date;
        var time = TimeOnly.FromDateTime(local);
        int index = -1;
        for (int i = 0; i < _shiftStarts.Length; i++)
        {
            if (_shiftStarts[i] <= time)
            {
                index = i;
            }
        }

        if (index < 0)
        {
            date = date.AddDays(-1);
            index = _shiftStarts.Length - 1;
        }

        long start = ToUtcTicks(date + _shiftStarts[index].ToTimeSpan());
        var (nextDate, nextIndex) = index + 1 < _shiftStarts.Length ? (date, index + 1) : (date.AddDays(1), 0);
        long end = ToUtcTicks(nextDate + _shiftStarts[nextIndex].ToTimeSpan());
        if (start > utcTicks)
        {
            // A DST gap moved this shift's start past the instant: the instant belongs to the previous shift.
            return ShiftContaining(start - 1) with { End = start };
        }

        return (start, end);
    }

    public (long Start, long End) Containing(WindowKind kind, long utcTicks) => kind switch
    {
        WindowKind.Minute => (EngineTime.FloorMinute(utcTicks), EngineTime.FloorMinute(utcTicks) + EngineTime.TicksPerMinute),
        WindowKind.Shift => ShiftContaining(utcTicks),
        WindowKind.Day => DayContaining(utcTicks),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "heats are not calendar windows"),
    };

    public int LocalYear(long utcTicks) => ToLocal(utcTicks).Year;

    /// <summary>Start of the month / year containing the instant, in local time (for month- and year-to-date).</summary>
    public long MonthStart(long utcTicks)
    {
        var local = ToLocal(utcTicks);
        return ToUtcTicks(new DateTime(local.Year, local.Month, 1));
    }

    public long YearStart(long utcTicks) => ToUtcTicks(new DateTime(ToLocal(utcTicks).Year, 1, 1));

    public string LocalHourStamp(long utcTicks) =>
        ToLocal(utcTicks).ToString("yyyyMMddHH", System.Globalization.CultureInfo.InvariantCulture);
}
