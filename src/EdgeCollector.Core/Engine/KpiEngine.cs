using System.Text.Json;
using EdgeCollector.Core.Configuration;

namespace EdgeCollector.Core.Engine;

/// <summary>Sample quality (product.md "Samples"): Bad is ignored entirely, Uncertain is used like Good.</summary>
public enum SampleQuality : byte { Good, Uncertain, Bad }

/// <summary>A record earlier than the one before it: replay stops on it (product.md "Order").</summary>
public sealed class OutOfOrderRecordException(string message) : Exception(message);

/// <summary>What the engine counted; the host exports these as metrics.</summary>
public sealed class EngineCounters
{
    public long Samples;
    public long BadIgnored;
    public long Uncertain;
    public long UnknownTags;
    public long DuplicateReadings;
    public long SpikesRejected;
    public long Rebased;
    public long Resets;
    public long Rollovers;
    public long Tickets;
    public long LoadsWithoutTicket;
    public long Voids;
    public long VoidsIgnored;
    public long Published;
}

/// <summary>
/// The domain engine: turns samples, scale readings and operator actions into heats, windows
/// and their KPIs, exactly as product.md defines them. No I/O and no clock: time comes from the
/// records (or <see cref="AdvanceTo"/> in live mode); messages are collected for the host to take.
/// </summary>
public sealed class KpiEngine
{
    private static readonly JsonSerializerOptions StateJson = new()
    {
        IncludeFields = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private static readonly WindowKind[] CalendarKinds = [WindowKind.Minute, WindowKind.Shift, WindowKind.Day];
    private static readonly string[] FlagOrder =
        [QualityFlags.HeelUncorrected, QualityFlags.CounterReset, QualityFlags.CounterSpikeRejected, QualityFlags.CounterRebased, QualityFlags.ScaleLoadUnticketed, QualityFlags.Corrected];

    private const long MinuteWindowRetention = 2 * TimeSpan.TicksPerDay;
    private const long LongWindowRetention = 400 * TimeSpan.TicksPerDay;

    private readonly PlantModel _m;
    private readonly EngineState _s;
    private readonly Group[] _groups;
    private readonly List<OutgoingMessage> _out = [];
    private readonly bool _hasEmptyGroup;
    private long _nextHoldDeadline = long.MinValue;
    private long _nextTimeCheck = long.MinValue;
    private bool _anyDirty = true;
    private long _lastHousekeepingMinute = long.MinValue;

    public KpiEngine(PlantModel model, EngineState? state = null)
    {
        _m = model;
        _s = state ?? NewState(model);
        if (_s.Layout != model.LayoutFingerprint())
        {
            throw new InvalidOperationException(
                "The saved engine state was written for a different plant layout (furnaces, meters or scales changed); " +
                "move the state database out of the data dir to start fresh.");
        }

        _groups = model.GroupMembers.Select(members => new Group(members)).ToArray();
        _hasEmptyGroup = _groups.Any(g => g.Members.Length == 0);
    }

    public PlantModel Model => _m;
    public EngineCounters Counters { get; } = new();
    public long RecordTime => _s.RecordTime;
    public bool Started => _s.Started;
    /// <summary>Receives one line per rejected or ignored input (the host logs it).</summary>
    public Action<string>? Log { get; set; }

    /// <summary>Messages produced since the last call, in publish order.</summary>
    public List<OutgoingMessage> TakeMessages()
    {
        var list = new List<OutgoingMessage>(_out);
        _out.Clear();
        return list;
    }

    public int PendingMessageCount => _out.Count;

    private readonly HashSet<string> _publishedDirty = new(StringComparer.Ordinal);
    private readonly HashSet<string> _publishedDeleted = new(StringComparer.Ordinal);
    private readonly HashSet<string> _ticketsDirty = new(StringComparer.Ordinal);
    private readonly HashSet<string> _ticketsDeleted = new(StringComparer.Ordinal);

    /// <summary>The whole state as one JSON document.</summary>
    public byte[] SaveState() => JsonSerializer.SerializeToUtf8Bytes(new EngineSnapshot
    {
        State = _s,
        Published = [.. _s.Published.Values],
        Tickets = [.. _s.Tickets.Values],
    }, StateJson);

    public static EngineState LoadState(ReadOnlySpan<byte> json)
    {
        var snapshot = JsonSerializer.Deserialize<EngineSnapshot>(json, StateJson) ?? throw new InvalidDataException("empty engine state");
        var state = snapshot.State;
        foreach (var p in snapshot.Published)
        {
            state.Published[p.Id] = p;
        }

        foreach (var t in snapshot.Tickets)
        {
            state.Tickets[t.Id] = t;
        }

        return state;
    }

    /// <summary>What changed since the last call (the host commits it in one transaction).</summary>
    public Checkpoint TakeCheckpoint()
    {
        var checkpoint = new Checkpoint(
            JsonSerializer.SerializeToUtf8Bytes(_s, StateJson),
            _publishedDirty.Select(id => KeyValuePair.Create(id, JsonSerializer.SerializeToUtf8Bytes(_s.Published[id], StateJson))).ToList(),
            [.. _publishedDeleted],
            _ticketsDirty.Select(id => KeyValuePair.Create(id, JsonSerializer.SerializeToUtf8Bytes(_s.Tickets[id], StateJson))).ToList(),
            [.. _ticketsDeleted]);
        _publishedDirty.Clear();
        _publishedDeleted.Clear();
        _ticketsDirty.Clear();
        _ticketsDeleted.Clear();
        return checkpoint;
    }

    /// <summary>Rebuilds state from checkpointed rows (see <see cref="TakeCheckpoint"/>).</summary>
    public static EngineState Restore(ReadOnlySpan<byte> core, IEnumerable<byte[]> published, IEnumerable<byte[]> tickets)
    {
        var state = JsonSerializer.Deserialize<EngineState>(core, StateJson) ?? throw new InvalidDataException("empty engine state");
        foreach (var row in published)
        {
            var p = JsonSerializer.Deserialize<PublishedWindow>(row, StateJson)!;
            state.Published[p.Id] = p;
        }

        foreach (var row in tickets)
        {
            var t = JsonSerializer.Deserialize<TicketState>(row, StateJson)!;
            state.Tickets[t.Id] = t;
        }

        return state;
    }

    private void PublishedChanged(string id)
    {
        _publishedDirty.Add(id);
        _publishedDeleted.Remove(id);
    }

    private void TicketChanged(string id)
    {
        _ticketsDirty.Add(id);
        _ticketsDeleted.Remove(id);
    }

    private static EngineState NewState(PlantModel m)
    {
        var s = new EngineState
        {
            Layout = m.LayoutFingerprint(),
            Counters = m.Totalisers.Select(_ => new CounterState()).ToArray(),
            Furnaces = m.Furnaces.Select(_ => new FurnaceState()).ToArray(),
            Scales = m.Scales.Select(_ => new ScaleTicketState()).ToArray(),
            Series = Enumerable.Range(0, m.EntityCount).Select(_ => CalendarKinds.Select(_ => new SeriesState()).ToArray()).ToArray(),
            Flags = Enumerable.Range(0, m.EntityCount).Select(_ => new List<FlagInterval>()).ToArray(),
        };
        foreach (var tag in m.Tags.Where(t => t.Stepped))
        {
            s.Steps[tag.Name] = new StepSeries();
        }

        return s;
    }

    // ---------------------------------------------------------------- inputs

    public void ApplySample(string tag, long ticks, double value, SampleQuality quality = SampleQuality.Good)
    {
        if (_m.TagIndex.TryGetValue(tag, out int index))
        {
            ApplySample(index, ticks, value, quality);
            return;
        }

        BeginRecord(ticks);
        Counters.UnknownTags++;
        EndRecord();
    }

    /// <summary>Applies one tag sample; <paramref name="tagIndex"/> from <see cref="PlantModel.TagIndex"/>.</summary>
    public void ApplySample(int tagIndex, long ticks, double value, SampleQuality quality = SampleQuality.Good)
    {
        BeginRecord(ticks);
        Counters.Samples++;
        if (quality == SampleQuality.Bad || !double.IsFinite(value))
        {
            Counters.BadIgnored++;
            EndRecord();
            return;
        }

        if (quality == SampleQuality.Uncertain)
        {
            Counters.Uncertain++;
        }

        var tag = _m.Tags[tagIndex];
        if (tag.Stepped)
        {
            _s.Steps[tag.Name].Add(ticks, value);
        }

        if (tag.Totaliser >= 0)
        {
            ApplyTotaliser(_m.Totalisers[tag.Totaliser], ticks, value);
        }

        foreach (int f in tag.StateOf)
        {
            OnState(f, ticks, value);
        }

        foreach (int f in tag.HeatNumberOf)
        {
            OnHeatNumber(f, ticks, value);
        }

        EndRecord();
    }

    public void ApplyScaleReading(string scale, long ticks, double grossKg, bool? motion)
    {
        BeginRecord(ticks);
        if (!_m.ScaleIndex.TryGetValue(scale, out int index))
        {
            Counters.UnknownTags++;
            EndRecord();
            return;
        }

        var model = _m.Scales[index];
        var made = _s.Scales[index].Add(ticks, grossKg, motion, model.ZeroBandKg, model.StableBandKg, model.StableTicks, out var unticketed);
        if (made is TimedValue ticket)
        {
            MakeTicket(model, ticket.Ticks, ticket.Value);
        }

        if (unticketed is UnticketedLoad lost)
        {
            // Never a silently missing weighing: counted, logged, and every window and heat of the
            // scale's furnace (and the site) that overlaps the load is flagged.
            Counters.LoadsWithoutTicket++;
            Log?.Invoke($"{model.Name}: a load of up to {lost.PeakKg} kg ({lost.Readings} readings, {EngineTime.Format(lost.FirstTicks)} – {EngineTime.Format(lost.LastTicks)}) returned to zero without holding within {model.StableBandKg} kg for {model.StableTicks / (double)TimeSpan.TicksPerSecond} s: no ticket");
            var interval = new FlagInterval(QualityFlags.ScaleLoadUnticketed, lost.FirstTicks, Math.Max(ticks, lost.FirstTicks + 1));
            _s.Flags[model.Furnace].Add(interval);
            _s.Flags[_m.SiteEntity].Add(interval);
        }

        EndRecord();
    }

    /// <summary>The operator picks the material of the next charges of a furnace (null clears the pick).</summary>
    public void ApplyMaterialPick(long ticks, string furnace, Material? material)
    {
        BeginRecord(ticks);
        if (_m.FurnaceIndex.TryGetValue(furnace, out int f))
        {
            _s.Furnaces[f].Pick = material;
        }
        else
        {
            Log?.Invoke($"material pick for unknown furnace '{furnace}' ignored");
        }

        EndRecord();
    }

    /// <summary>The operator voids a ticket (product.md "Voids"); an unknown or already voided id is logged and ignored.</summary>
    public bool ApplyVoid(long ticks, string ticketId, string reason)
    {
        BeginRecord(ticks);
        bool applied = Void(ticketId, reason);
        EndRecord();
        return applied;
    }

    /// <summary>Live mode: time passes without records (holds run out, windows of meter-less entities close).</summary>
    public void AdvanceTo(long ticks)
    {
        if (!_s.Started || ticks <= _s.RecordTime)
        {
            return;
        }

        BeginRecord(ticks);
        EndRecord();
    }

    /// <summary>
    /// End of a replay (product.md "Replay"): every window that ends after the first record and at or
    /// before the last and is not yet published is published as it stands; an open heat is not.
    /// </summary>
    public void FlushAtEnd()
    {
        if (!_s.Started)
        {
            return;
        }

        var batch = new List<Candidate>();
        long last = _s.RecordTime;
        for (int e = 0; e < _m.EntityCount; e++)
        {
            for (int k = 0; k < CalendarKinds.Length; k++)
            {
                var ser = _s.Series[e][k];
                while (true)
                {
                    var (start, end) = Window(CalendarKinds[k], ser.NextPub);
                    if (end > last)
                    {
                        break;
                    }

                    batch.Add(new Candidate(e, CalendarKinds[k], start, end, null));
                    ser.NextPub = end;
                }
            }
        }

        for (int f = 0; f < _m.Furnaces.Count; f++)
        {
            foreach (var heat in _s.Furnaces[f].Closed.Where(h => !h.HoldPublished))
            {
                heat.HoldPublished = true;
                batch.Add(new Candidate(f, WindowKind.Heat, heat.Open, heat.Close!.Value, heat));
            }
        }

        PublishBatch(batch, final: false);
    }

    // ---------------------------------------------------------------- record framing

    private void BeginRecord(long ticks)
    {
        if (!_s.Started)
        {
            Start(ticks);
        }
        else if (ticks < _s.RecordTime)
        {
            throw new OutOfOrderRecordException(
                $"record at {EngineTime.Format(ticks)} is earlier than the one before it ({EngineTime.Format(_s.RecordTime)})");
        }

        _s.RecordTime = ticks;
        if (ticks >= _nextHoldDeadline)
        {
            ProcessHolds(ticks);
        }
    }

    private void EndRecord()
    {
        if (_anyDirty || _s.RecordTime >= _nextTimeCheck)
        {
            RunFinality();
        }

        long minute = EngineTime.FloorMinute(_s.RecordTime);
        if (minute != _lastHousekeepingMinute)
        {
            _lastHousekeepingMinute = minute;
            Housekeeping();
        }
    }

    private void Start(long ticks)
    {
        _s.Started = true;
        _s.FirstRecord = ticks;
        _s.RecordTime = ticks;
        _s.MinuteBase = EngineTime.FloorMinute(ticks);
        for (int e = 0; e < _m.EntityCount; e++)
        {
            for (int k = 0; k < CalendarKinds.Length; k++)
            {
                long start = _m.Calendar.Containing(CalendarKinds[k], ticks).Start;
                _s.Series[e][k].NextFinal = start;
                _s.Series[e][k].NextPub = start;
            }
        }
    }

    // ---------------------------------------------------------------- totalisers

    private void ApplyTotaliser(TotaliserModel t, long ticks, double value)
    {
        var state = _s.Counters[t.Index];
        long oldLast = state.LastAccepted;
        var r = CounterLogic.Apply(state, ticks, value, t.Max, t.MaxRatePerHour);
        switch (r.Outcome)
        {
            case CounterOutcome.Ignored:
                Counters.DuplicateReadings++;
                return;
            case CounterOutcome.Rejected:
                Counters.SpikesRejected++;
                Log?.Invoke($"{t.Tag}: reading {value} at {EngineTime.Format(ticks)} rejected as a spike (rate above {t.MaxRatePerHour}/h)");
                AddFlag(t, QualityFlags.CounterSpikeRejected, r.From, r.To);
                return;
            case CounterOutcome.Rebased:
                Counters.SpikesRejected++;
                Counters.Rebased++;
                Log?.Invoke($"{t.Tag}: {CounterLogic.RebaseAfter} readings in a row rejected; rebased at {value} ({EngineTime.Format(ticks)}), the jump is not counted");
                AddFlag(t, QualityFlags.CounterSpikeRejected, r.From, r.To);
                AddFlag(t, QualityFlags.CounterRebased, r.From, r.To);
                break;
            case CounterOutcome.Accepted:
                if (r.Reset)
                {
                    Counters.Resets++;
                    Log?.Invoke($"{t.Tag}: totaliser dropped to {value} at {EngineTime.Format(ticks)}: meter reset");
                    AddFlag(t, QualityFlags.CounterReset, r.From, r.To);
                }

                if (r.Rollover)
                {
                    Counters.Rollovers++;
                }

                Spread(t, r.From, r.To, r.Delta);
                break;
        }

        foreach (int g in t.Groups)
        {
            _groups[g].OnAccepted(oldLast, state.LastAccepted, ref _anyDirty);
        }
    }

    private void AddFlag(TotaliserModel t, string flag, long from, long to)
    {
        var interval = new FlagInterval(flag, from, to);
        if (t.Furnace >= 0)
        {
            _s.Flags[t.Furnace].Add(interval);
        }
        else
        {
            for (int f = 0; f < _m.Furnaces.Count; f++)
            {
                _s.Flags[f].Add(interval);
            }
        }

        _s.Flags[_m.SiteEntity].Add(interval);
    }

    /// <summary>Spreads a delta uniformly over [t0, t1) into minutes and heats (product.md "Spreading deltas").</summary>
    private void Spread(TotaliserModel t, long t0, long t1, double rawDelta)
    {
        double q = rawDelta * t.UnitFactor;
        double gas = 0, kWh = 0, gj, scope1 = 0;
        if (t.Kind == MeterKind.Fuel)
        {
            double factor = t.StandardFactor;
            if (t.Actual)
            {
                double p = t.PressureTag >= 0 ? _s.Steps[_m.Tags[t.PressureTag].Name].MeanOver(t0, t1, t.PressureKPa) : t.PressureKPa;
                double temp = t.TemperatureTag >= 0 ? _s.Steps[_m.Tags[t.TemperatureTag].Name].MeanOver(t0, t1, t.TemperatureC) : t.TemperatureC;
                factor = p / 101.325 * 273.15 / (273.15 + temp);
            }

            gas = q * factor;
            gj = gas * t.Fuel!.NcvGJPerNm3;
            scope1 = KpiCalculator.Scope1(gas, t.Fuel);
        }
        else
        {
            kWh = q;
            gj = kWh * 0.0036;
        }

        double span = t1 - t0;
        for (long m = EngineTime.FloorMinute(t0); m < t1; m += EngineTime.TicksPerMinute)
        {
            long lo = Math.Max(t0, m), hi = Math.Min(t1, m + EngineTime.TicksPerMinute);
            double fraction = (hi - lo) / span;
            var slot = Slot(m);
            var target = t.Furnace >= 0 ? slot.Furnace[t.Furnace] : slot.SiteMeters;
            target.AddEnergy(gas, kWh, gj, scope1, fraction);
        }

        if (t.Furnace >= 0)
        {
            var fs = _s.Furnaces[t.Furnace];
            if (fs.Open is { } open)
            {
                AddToHeat(open, t0, t1, span, gas, kWh, gj, scope1);
            }

            foreach (var heat in fs.Closed)
            {
                AddToHeat(heat, t0, t1, span, gas, kWh, gj, scope1);
            }
        }
    }

    private static void AddToHeat(HeatState heat, long t0, long t1, double span, double gas, double kWh, double gj, double scope1)
    {
        long lo = Math.Max(t0, heat.Open), hi = Math.Min(t1, heat.Close ?? long.MaxValue);
        if (hi > lo)
        {
            heat.Direct.AddEnergy(gas, kWh, gj, scope1, (hi - lo) / span);
        }
    }

    private MinuteSlot Slot(long minute)
    {
        long index = (minute - _s.MinuteBase) / EngineTime.TicksPerMinute;
        if (index < 0)
        {
            throw new InvalidOperationException(
                $"internal: minute {EngineTime.Format(minute)} was already retired (base {EngineTime.Format(_s.MinuteBase)})");
        }

        while (_s.Minutes.Count <= index)
        {
            _s.Minutes.Add(null);
        }

        return _s.Minutes[(int)index] ??= NewSlot();
    }

    private MinuteSlot? TrySlot(long minute)
    {
        long index = (minute - _s.MinuteBase) / EngineTime.TicksPerMinute;
        return index >= 0 && index < _s.Minutes.Count ? _s.Minutes[(int)index] : null;
    }

    private MinuteSlot NewSlot() => new() { Furnace = _m.Furnaces.Select(_ => new Figures()).ToArray() };

    // ---------------------------------------------------------------- heats

    private void OnState(int f, long ticks, double value)
    {
        var fs = _s.Furnaces[f];
        if (fs.State is not double previous)
        {
            fs.State = value;
            return;
        }

        fs.State = value;
        if (previous == 0 && value != 0 && fs.Open is null)
        {
            OpenHeat(f, ticks, fs.HeatNumber is double n ? (long)n : null);
        }
        else if (previous != 0 && value == 0 && fs.Open is not null)
        {
            CloseHeat(f, ticks);
        }
    }

    private void OnHeatNumber(int f, long ticks, double value)
    {
        var fs = _s.Furnaces[f];
        if (fs.HeatNumber is not double previous)
        {
            fs.HeatNumber = value;
            return;
        }

        if (value == previous)
        {
            return;
        }

        fs.HeatNumber = value;
        if (fs.Open is not null)
        {
            CloseHeat(f, ticks);
        }

        OpenHeat(f, ticks, (long)value);
    }

    private HeatState OpenHeat(int f, long ticks, long? number)
    {
        var fs = _s.Furnaces[f];
        long n = number ?? ++fs.RunningCount;
        string baseId = $"{_m.Furnaces[f].Id}-{_m.Calendar.LocalHourStamp(ticks)}-{n.ToString("D3", System.Globalization.CultureInfo.InvariantCulture)}";
        string id = baseId;
        for (int k = 2; fs.RecentIds.ContainsKey(id); k++)
        {
            id = $"{baseId}.{k}";
        }

        fs.RecentIds[id] = ticks;
        var heat = new HeatState { Id = id, Open = ticks };
        foreach (string pending in fs.PendingCharges)
        {
            var ticket = _s.Tickets[pending];
            ticket.HeatId = id;
            TicketChanged(pending);
            heat.Direct.AddTicket(ticket.Role, ticket.Material, ticket.GrossKg, ticket.YieldNetKg, +1);
        }

        fs.PendingCharges.Clear();
        fs.Open = heat;
        fs.TapArmed = false;
        // The heat's minutes must stay until it is published: make sure the slot exists.
        Slot(EngineTime.FloorMinute(ticks));
        return heat;
    }

    private void CloseHeat(int f, long ticks)
    {
        var fs = _s.Furnaces[f];
        var heat = fs.Open!;
        heat.Close = ticks;
        fs.Open = null;
        fs.Closed.Add(heat);
        _nextHoldDeadline = Math.Min(_nextHoldDeadline, ticks + _m.HoldTicks);
        _groups[_m.Furnaces[f].Group].Dirty = true;
        _anyDirty = true;
    }

    // ---------------------------------------------------------------- tickets

    private void MakeTicket(ScaleModel scale, long stableAt, double grossKg)
    {
        string id = MessageIds.Ticket(_m.SiteId, scale.Name, stableAt);
        if (_s.Tickets.ContainsKey(id))
        {
            return;
        }

        int f = scale.Furnace;
        var fs = _s.Furnaces[f];
        var furnace = _m.Furnaces[f];
        int material = -1;
        double yieldNet = 0;
        if (scale.Role == ScaleRole.Charge)
        {
            var picked = fs.Pick ?? furnace.DefaultMaterial;
            material = picked is Material m ? (int)m : Figures.UnknownMaterial;
            yieldNet = grossKg * _m.Calculator.YieldFactor(material);
        }

        HeatState? heat = fs.Open;
        bool pending = false;
        if (!furnace.PlcHeats)
        {
            if (scale.Role == ScaleRole.Charge)
            {
                if (fs.Open is null)
                {
                    heat = OpenHeat(f, stableAt, null);
                }
                else if (fs.TapArmed)
                {
                    CloseHeat(f, stableAt);
                    heat = OpenHeat(f, stableAt, null);
                }
            }
            else if (scale.Role == ScaleRole.Tap && heat is not null)
            {
                fs.TapArmed = true;
            }
        }
        else if (heat is null && scale.Role == ScaleRole.Charge)
        {
            pending = true;
        }

        var ticket = new TicketState
        {
            Id = id,
            Scale = scale.Name,
            Furnace = f,
            Role = scale.Role,
            Material = material,
            GrossKg = grossKg,
            NetKg = grossKg,
            YieldNetKg = yieldNet,
            StableAt = stableAt,
            HeatId = heat?.Id,
        };
        _s.Tickets[id] = ticket;
        TicketChanged(id);
        Slot(EngineTime.FloorMinute(stableAt)).Furnace[f].AddTicket(scale.Role, material, grossKg, yieldNet, +1);
        heat?.Direct.AddTicket(scale.Role, material, grossKg, yieldNet, +1);
        if (pending)
        {
            fs.PendingCharges.Add(id);
        }

        Counters.Tickets++;
        long seq = ++_s.Seq;
        _out.Add(new OutgoingMessage(Topic(furnace.Id, "ticket"),
            PayloadWriter.Ticket(ticket, id, seq, _m.SiteId, furnace.Id, null, null), id, 0, seq));
    }

    private bool Void(string ticketId, string reason)
    {
        if (!_s.Tickets.TryGetValue(ticketId, out var t) || t.Voided)
        {
            Counters.VoidsIgnored++;
            Log?.Invoke($"void of ticket '{ticketId}' ignored: {(t is null ? "no such ticket" : "already voided")}");
            return false;
        }

        t.Voided = true;
        TicketChanged(t.Id);
        Counters.Voids++;
        string furnaceId = _m.Furnaces[t.Furnace].Id;
        string voidId = MessageIds.Void(_m.SiteId, t.Scale, t.StableAt);
        long seq = ++_s.Seq;
        _out.Add(new OutgoingMessage(Topic(furnaceId, "ticket"),
            PayloadWriter.Ticket(t, voidId, seq, _m.SiteId, furnaceId, t.Id, reason), voidId, 0, seq));

        // Remove it from what is still being summed...
        TrySlot(EngineTime.FloorMinute(t.StableAt))?.Furnace[t.Furnace].AddTicket(t.Role, t.Material, t.GrossKg, t.YieldNetKg, -1);
        var fs = _s.Furnaces[t.Furnace];
        fs.PendingCharges.Remove(t.Id);
        foreach (var heat in fs.Closed.Append(fs.Open))
        {
            if (heat is not null && heat.Id == t.HeatId)
            {
                heat.Direct.AddTicket(t.Role, t.Material, t.GrossKg, t.YieldNetKg, -1);
            }
        }

        // ...and republish every window that already published it.
        var republish = new List<PublishedWindow>();
        foreach (int e in new[] { t.Furnace, _m.SiteEntity })
        {
            foreach (var kind in CalendarKinds)
            {
                var (start, _) = _m.Calendar.Containing(kind, t.StableAt);
                if (_s.Published.TryGetValue(MessageIds.Kpi(_m.SiteId, _m.EntityName(e), PayloadWriter.KindName(kind), start), out var pw))
                {
                    republish.Add(pw);
                }
            }
        }

        if (t.HeatId is not null)
        {
            republish.AddRange(_s.Published.Values.Where(p => p.Kind == WindowKind.Heat && p.HeatId == t.HeatId));
        }

        foreach (var pw in republish.OrderBy(p => p.End).ThenBy(p => p.Kind).ThenBy(p => p.Entity))
        {
            pw.Figures.AddTicket(t.Role, t.Material, t.GrossKg, t.YieldNetKg, -1);
            pw.Rev++;
            AddFlagOrdered(pw.Flags, QualityFlags.Corrected);
            PublishedChanged(pw.Id);
            Emit(pw);
        }

        return true;
    }

    // ---------------------------------------------------------------- windows

    private readonly record struct Candidate(int Entity, WindowKind Kind, long Start, long End, HeatState? Heat);

    private (long Start, long End) Window(WindowKind kind, long start) => kind == WindowKind.Minute
        ? (start, start + EngineTime.TicksPerMinute)
        : _m.Calendar.Containing(kind, start);

    private long FinalityPoint(long end) => _m.HasSiteMeters ? EngineTime.CeilMinute(end) : end;

    private void RunFinality()
    {
        foreach (var g in _groups)
        {
            if (g.Dirty)
            {
                Recompute(g);
            }
        }

        _anyDirty = false;
        var batch = new List<Candidate>();
        for (int e = 0; e < _m.EntityCount; e++)
        {
            long frontier = Math.Min(_groups[_m.GroupOf(e)].Frontier, _s.RecordTime);
            for (int k = 0; k < CalendarKinds.Length; k++)
            {
                var ser = _s.Series[e][k];
                while (true)
                {
                    var (start, end) = Window(CalendarKinds[k], ser.NextFinal);
                    if (FinalityPoint(end) > frontier)
                    {
                        break;
                    }

                    batch.Add(new Candidate(e, CalendarKinds[k], start, end, null));
                    ser.NextFinal = end;
                    ser.NextPub = Math.Max(ser.NextPub, end);
                }
            }

            if (e < _m.Furnaces.Count)
            {
                var closed = _s.Furnaces[e].Closed;
                for (int i = 0; i < closed.Count; i++)
                {
                    var heat = closed[i];
                    if (FinalityPoint(heat.Close!.Value) <= frontier)
                    {
                        batch.Add(new Candidate(e, WindowKind.Heat, heat.Open, heat.Close.Value, heat));
                        closed.RemoveAt(i--);
                    }
                }
            }
        }

        PublishBatch(batch, final: true);
        _nextTimeCheck = _hasEmptyGroup ? EngineTime.FloorMinute(_s.RecordTime) + EngineTime.TicksPerMinute : long.MaxValue;
    }

    private void ProcessHolds(long now)
    {
        var batch = new List<Candidate>();
        long deadline = long.MaxValue;
        for (int e = 0; e < _m.EntityCount; e++)
        {
            for (int k = 0; k < CalendarKinds.Length; k++)
            {
                var ser = _s.Series[e][k];
                while (true)
                {
                    var (start, end) = Window(CalendarKinds[k], ser.NextPub);
                    if (end + _m.HoldTicks > now)
                    {
                        deadline = Math.Min(deadline, end + _m.HoldTicks);
                        break;
                    }

                    batch.Add(new Candidate(e, CalendarKinds[k], start, end, null));
                    ser.NextPub = end;
                }
            }

            if (e < _m.Furnaces.Count)
            {
                foreach (var heat in _s.Furnaces[e].Closed.Where(h => !h.HoldPublished))
                {
                    long due = heat.Close!.Value + _m.HoldTicks;
                    if (due <= now)
                    {
                        heat.HoldPublished = true;
                        batch.Add(new Candidate(e, WindowKind.Heat, heat.Open, heat.Close.Value, heat));
                    }
                    else
                    {
                        deadline = Math.Min(deadline, due);
                    }
                }
            }
        }

        _nextHoldDeadline = deadline;
        PublishBatch(batch, final: false);
    }

    private void PublishBatch(List<Candidate> batch, bool final)
    {
        batch.Sort(static (a, b) =>
        {
            int c = a.End.CompareTo(b.End);
            if (c == 0) c = a.Kind.CompareTo(b.Kind);
            if (c == 0) c = a.Entity.CompareTo(b.Entity);
            return c != 0 ? c : a.Start.CompareTo(b.Start);
        });
        foreach (var c in batch)
        {
            PublishWindow(c, final);
        }
    }

    private void PublishWindow(Candidate c, bool final)
    {
        string entityName = _m.EntityName(c.Entity);
        string id = MessageIds.Kpi(_m.SiteId, entityName, PayloadWriter.KindName(c.Kind), c.Start);
        var figures = ComputeFigures(c);
        var flags = new List<string>();
        double heelDelta = 0;
        if (c.Heat is not null)
        {
            int heelTag = _m.Furnaces[c.Entity].HeelTag;
            var series = heelTag >= 0 ? _s.Steps[_m.Tags[heelTag].Name] : null;
            if (series?.ValueAt(c.Start) is double heelStart && series.ValueAt(c.End) is double heelEnd)
            {
                heelDelta = heelEnd - heelStart;
            }
            else
            {
                flags.Add(QualityFlags.HeelUncorrected);
            }
        }

        foreach (var interval in _s.Flags[c.Entity])
        {
            if (interval.Start < c.End && interval.End > c.Start)
            {
                AddFlagOrdered(flags, interval.Flag);
            }
        }

        _s.Published.TryGetValue(id, out var previous);
        int rev = previous is null ? 0 : previous.Rev + 1;
        if (rev > 0)
        {
            AddFlagOrdered(flags, QualityFlags.Corrected);
        }

        var pw = new PublishedWindow
        {
            Id = id,
            Kind = c.Kind,
            Entity = c.Entity,
            Start = c.Start,
            End = c.End,
            HeatId = c.Heat?.Id,
            Rev = rev,
            Final = final,
            Complete = final && IsComplete(c.Entity, c.Start, c.End),
            Flags = flags,
            Figures = figures,
            HeelDeltaKg = heelDelta,
        };
        _s.Published[id] = pw;
        PublishedChanged(id);
        Emit(pw);
    }

    private void Emit(PublishedWindow pw)
    {
        int? year = pw.Kind == WindowKind.Day ? _m.Calendar.LocalYear(pw.Start) : null;
        var kpi = _m.Calculator.Compute(pw.Figures, pw.Kind, pw.HeelDeltaKg, year);
        string entity = _m.EntityName(pw.Entity);
        long seq = ++_s.Seq;
        Counters.Published++;
        _out.Add(new OutgoingMessage(Topic(entity, "kpi/" + PayloadWriter.KindName(pw.Kind)),
            PayloadWriter.Kpi(pw, seq, _m.SiteId, entity, _m.FactorSet, kpi, _s.RecordTime), pw.Id, pw.Rev, seq));
    }

    private static void AddFlagOrdered(List<string> flags, string flag)
    {
        if (flags.Contains(flag))
        {
            return;
        }

        flags.Add(flag);
        flags.Sort((a, b) => Array.IndexOf(FlagOrder, a).CompareTo(Array.IndexOf(FlagOrder, b)));
    }

    private bool IsComplete(int entity, long start, long end)
    {
        var g = _groups[_m.GroupOf(entity)];
        long point = _m.HasSiteMeters ? EngineTime.FloorMinute(start) : start;
        if (g.Members.Length > 0 && g.MaxFirst > point)
        {
            return false;
        }

        foreach (var interval in _s.Flags[entity])
        {
            if (interval.Flag == QualityFlags.CounterRebased && interval.Start < end && interval.End > start)
            {
                return false;
            }
        }

        return true;
    }

    private string Topic(string entity, string kind) => $"{_m.TopicPrefix}/{_m.SiteId}/{entity}/{kind}";

    /// <summary>The additive figures of a window: minute slots summed, site-meter energy allocated.</summary>
    private Figures ComputeFigures(Candidate c)
    {
        var result = new Figures();
        if (c.Kind == WindowKind.Heat)
        {
            result.Add(c.Heat!.Direct);
            if (_m.HasSiteMeters)
            {
                for (long m = EngineTime.FloorMinute(c.Start); m < c.End; m += EngineTime.TicksPerMinute)
                {
                    long lo = Math.Max(c.Start, m), hi = Math.Min(c.End, m + EngineTime.TicksPerMinute);
                    if (TrySlot(m) is { } slot && hi > lo)
                    {
                        AddAllocated(result, slot, c.Entity, (double)(hi - lo) / EngineTime.TicksPerMinute);
                    }
                }
            }

            return result;
        }

        for (long m = c.Start; m < c.End; m += EngineTime.TicksPerMinute)
        {
            if (TrySlot(m) is not { } slot)
            {
                continue;
            }

            if (c.Entity == _m.SiteEntity)
            {
                foreach (var f in slot.Furnace)
                {
                    result.Add(f);
                }

                result.Add(slot.SiteMeters);
            }
            else
            {
                result.Add(slot.Furnace[c.Entity]);
                if (_m.HasSiteMeters)
                {
                    AddAllocated(result, slot, c.Entity, 1.0);
                }
            }
        }

        return result;
    }

    /// <summary>
    /// Site-meter energy of one minute allocated to a furnace in proportion to its own direct
    /// energy (GJ) in that minute, equally when no furnace used any (product.md "Allocation").
    /// </summary>
    private void AddAllocated(Figures into, MinuteSlot slot, int furnace, double fraction)
    {
        double total = 0;
        foreach (var f in slot.Furnace)
        {
            total += f.EnergyGJ;
        }

        double share = total > 0 ? slot.Furnace[furnace].EnergyGJ / total : 1.0 / slot.Furnace.Length;
        var s = slot.SiteMeters;
        into.AddEnergy(s.GasNm3, s.ElectricityKWh, s.EnergyGJ, s.Scope1TCO2, share * fraction);
    }

    /// <summary>
    /// Figures of an entity over [from, to) for the dashboard's month- and year-to-date (product.md
    /// "Intensity"): whole local days from their published day windows (latest revision), the rest
    /// from the minutes still held. <paramref name="from"/> must be a local day start.
    /// </summary>
    public Figures PeriodFigures(int entity, long from, long to)
    {
        var result = new Figures();
        long cursor = from;
        string entityName = _m.EntityName(entity);
        while (cursor < to)
        {
            var (start, end) = _m.Calendar.DayContaining(cursor);
            if (start == cursor && end <= to && _s.Published.TryGetValue(MessageIds.Kpi(_m.SiteId, entityName, "day", start), out var day))
            {
                result.Add(day.Figures);
            }
            else
            {
                long stop = Math.Min(end, to);
                result.Add(ComputeFigures(new Candidate(entity, WindowKind.Shift, EngineTime.FloorMinute(cursor), EngineTime.CeilMinute(stop), null)));
            }

            cursor = end;
        }

        return result;
    }

    /// <summary>The open heat of a furnace so far (direct figures plus allocated site-meter energy up to record time).</summary>
    public (HeatState Heat, Figures Figures)? OpenHeat(int furnace)
    {
        if (_s.Furnaces[furnace].Open is not { } heat)
        {
            return null;
        }

        long until = Math.Max(_s.RecordTime, heat.Open);
        return (heat, ComputeFigures(new Candidate(furnace, WindowKind.Heat, heat.Open, until, heat)));
    }

    /// <summary>The latest revision of the most recent published heats of a furnace, newest first.</summary>
    public IReadOnlyList<PublishedWindow> RecentHeats(int furnace, int count) =>
        _s.Published.Values.Where(p => p.Kind == WindowKind.Heat && p.Entity == furnace)
            .OrderByDescending(p => p.Start).Take(count).ToList();

    /// <summary>The latest revision of the most recent published windows of one kind (shift, day) of an entity, newest first.</summary>
    public IReadOnlyList<PublishedWindow> RecentWindows(int entity, WindowKind kind, int count) =>
        _s.Published.Values.Where(p => p.Kind == kind && p.Entity == entity)
            .OrderByDescending(p => p.Start).Take(count).ToList();

    /// <summary>Month- or year-to-date figures of an entity at the current record time.</summary>
    public Figures ToDate(int entity, bool year)
    {
        long now = _s.RecordTime;
        long from = year ? _m.Calendar.YearStart(now) : _m.Calendar.MonthStart(now);
        return PeriodFigures(entity, from, now);
    }

    // ---------------------------------------------------------------- finality groups

    private void Recompute(Group g)
    {
        g.Dirty = false;
        if (g.Members.Length == 0)
        {
            g.Frontier = long.MaxValue;
            g.Threshold = long.MaxValue;
            g.Below = 0;
            g.MaxFirst = long.MinValue;
            return;
        }

        long frontier = long.MaxValue, maxFirst = long.MinValue;
        foreach (int t in g.Members)
        {
            var c = _s.Counters[t];
            frontier = Math.Min(frontier, c.LastAccepted);
            maxFirst = Math.Max(maxFirst, c.FirstAccepted);
        }

        g.Frontier = frontier;
        g.MaxFirst = maxFirst;
        long threshold;
        if (frontier == long.MinValue)
        {
            threshold = long.MinValue + 1;
        }
        else
        {
            threshold = EngineTime.FloorMinute(frontier) + EngineTime.TicksPerMinute;
            int groupIndex = Array.IndexOf(_groups, g);
            for (int f = 0; f < _m.Furnaces.Count; f++)
            {
                if (_m.Furnaces[f].Group != groupIndex)
                {
                    continue;
                }

                foreach (var heat in _s.Furnaces[f].Closed)
                {
                    long point = FinalityPoint(heat.Close!.Value);
                    if (point > frontier)
                    {
                        threshold = Math.Min(threshold, point);
                    }
                }
            }
        }

        g.Threshold = threshold;
        int below = 0;
        foreach (int t in g.Members)
        {
            if (_s.Counters[t].LastAccepted < threshold)
            {
                below++;
            }
        }

        g.Below = below;
    }

    private sealed class Group(int[] members)
    {
        public int[] Members { get; } = members;
        public long Frontier { get; set; } = long.MinValue;
        public long Threshold { get; set; } = long.MinValue;
        public int Below { get; set; }
        public long MaxFirst { get; set; } = long.MaxValue;
        public bool Dirty { get; set; } = true;

        public void OnAccepted(long oldLast, long newLast, ref bool anyDirty)
        {
            if (oldLast < Threshold && newLast >= Threshold && --Below <= 0)
            {
                Dirty = true;
                anyDirty = true;
            }
        }
    }

    // ---------------------------------------------------------------- housekeeping

    private void Housekeeping()
    {
        long horizon = long.MaxValue;
        foreach (var entitySeries in _s.Series)
        {
            foreach (var ser in entitySeries)
            {
                horizon = Math.Min(horizon, ser.NextFinal);
            }
        }

        foreach (var fs in _s.Furnaces)
        {
            if (fs.Open is { } open)
            {
                horizon = Math.Min(horizon, open.Open);
            }

            foreach (var heat in fs.Closed)
            {
                horizon = Math.Min(horizon, heat.Open);
            }
        }

        long minute = EngineTime.FloorMinute(Math.Min(horizon, _s.RecordTime));
        long drop = (minute - _s.MinuteBase) / EngineTime.TicksPerMinute;
        if (drop > 0)
        {
            int n = (int)Math.Min(drop, _s.Minutes.Count);
            _s.Minutes.RemoveRange(0, n);
            _s.MinuteBase += drop * EngineTime.TicksPerMinute;
        }

        foreach (var list in _s.Flags)
        {
            list.RemoveAll(i => i.End <= horizon);
        }

        long baseline = _s.Counters.Length == 0 ? _s.RecordTime : _s.Counters.Min(c => c.HasBaseline ? c.BaseTicks : long.MinValue);
        long stepHorizon = Math.Min(Math.Min(horizon, baseline), _s.RecordTime);
        foreach (var series in _s.Steps.Values)
        {
            series.Prune(stepHorizon);
        }

        if (minute % EngineTime.TicksPerHour == 0)
        {
            long now = _s.RecordTime;
            foreach (var key in _s.Published.Where(p => p.Value.End < now - (p.Value.Kind == WindowKind.Minute ? MinuteWindowRetention : LongWindowRetention))
                         .Select(p => p.Key).ToList())
            {
                _s.Published.Remove(key);
                _publishedDirty.Remove(key);
                _publishedDeleted.Add(key);
            }

            foreach (var key in _s.Tickets.Where(t => t.Value.StableAt < now - LongWindowRetention).Select(t => t.Key).ToList())
            {
                _s.Tickets.Remove(key);
                _ticketsDirty.Remove(key);
                _ticketsDeleted.Add(key);
            }

            foreach (var fs in _s.Furnaces)
            {
                foreach (var key in fs.RecentIds.Where(r => r.Value < now - TimeSpan.TicksPerDay * 2).Select(r => r.Key).ToList())
                {
                    fs.RecentIds.Remove(key);
                }
            }
        }
    }

    // ---------------------------------------------------------------- queries for the dashboard

    public IReadOnlyDictionary<string, PublishedWindow> Published => _s.Published;
    public IReadOnlyDictionary<string, TicketState> Tickets => _s.Tickets;
    public FurnaceState FurnaceState(int furnace) => _s.Furnaces[furnace];
}
