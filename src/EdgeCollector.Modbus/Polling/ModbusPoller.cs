using System.Runtime.CompilerServices;

namespace EdgeCollector.Modbus;

/// <summary>Polling policy.</summary>
public sealed record ModbusPollerOptions
{
    /// <summary>Time between poll cycles.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Largest hole of unused addresses bridged when coalescing tags into one read.</summary>
    public int MaxGap { get; init; } = 8;

    /// <summary>Largest register block (§6.3: ≤ 125). Some meters accept less.</summary>
    public int MaxRegisters { get; init; } = ModbusRequest.MaxReadRegisters;

    /// <summary>Largest bit block (§6.1: ≤ 2000).</summary>
    public int MaxBits { get; init; } = ModbusRequest.MaxReadBits;

    /// <summary>First back-off after a unit stops answering; doubles per failed attempt.</summary>
    public TimeSpan DeadUnitBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Ceiling of the dead-unit back-off.</summary>
    public TimeSpan MaxDeadUnitBackoff { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>
/// Polls a set of tags over one link: plans block reads, splits blocks that draw exceptions,
/// and backs off units that stop answering so that they cost the other units at most one
/// timeout per back-off period.
/// </summary>
public sealed class ModbusPoller
{
    private readonly ModbusConnection _connection;
    private readonly ModbusPollerOptions _options;
    private readonly TimeProvider _time;
    private readonly Dictionary<byte, UnitState> _units = [];
    private readonly object _lock = new();
    private readonly List<ModbusBlock> _plan;

    /// <summary>Creates the poller and plans its blocks.</summary>
    public ModbusPoller(ModbusConnection connection, IEnumerable<ModbusTag> tags, ModbusPollerOptions? options = null, TimeProvider? timeProvider = null)
    {
        _connection = connection ?? throw new ArgumentNullException(nameof(connection));
        _options = options ?? new ModbusPollerOptions();
        _time = timeProvider ?? TimeProvider.System;
        _plan = [.. ModbusBlockPlanner.Plan(tags, _options.MaxGap, _options.MaxRegisters, _options.MaxBits)];
        foreach (var unit in _plan.Select(b => b.UnitId).Distinct())
        {
            _units[unit] = new UnitState();
        }
    }

    /// <summary>Current block plan (changes when a block is split after an exception).</summary>
    public IReadOnlyList<ModbusBlock> Plan
    {
        get
        {
            lock (_lock)
            {
                return [.. _plan];
            }
        }
    }

    /// <summary>Whether <paramref name="unitId"/> is currently skipped because it stopped answering.</summary>
    public bool IsBackingOff(byte unitId)
    {
        lock (_lock)
        {
            return _units.TryGetValue(unitId, out var state) && state.Failures > 0 && _time.GetUtcNow() < state.NextAttempt;
        }
    }

    /// <summary>
    /// Runs poll cycles every <see cref="ModbusPollerOptions.Interval"/> until cancelled, yielding each cycle's samples.
    /// Units poll concurrently; requests to units behind one link still queue at the link.
    /// </summary>
    public async IAsyncEnumerable<IReadOnlyList<ModbusSample>> RunAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var timer = new PeriodicTimer(_options.Interval, _time);
        while (!cancellationToken.IsCancellationRequested)
        {
            yield return await PollOnceAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (!await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
                {
                    yield break;
                }
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
        }
    }

    /// <summary>One cycle: every unit not in back-off is read; failures become Bad samples with a reason.</summary>
    public async Task<IReadOnlyList<ModbusSample>> PollOnceAsync(CancellationToken cancellationToken = default)
    {
        List<IGrouping<byte, ModbusBlock>> units;
        lock (_lock)
        {
            units = [.. _plan.GroupBy(b => b.UnitId)];
        }

        var results = await Task.WhenAll(units.Select(u => PollUnitAsync(u.Key, [.. u], cancellationToken))).ConfigureAwait(false);
        return [.. results.SelectMany(r => r)];
    }

    private async Task<List<ModbusSample>> PollUnitAsync(byte unitId, List<ModbusBlock> blocks, CancellationToken cancellationToken)
    {
        UnitState state;
        lock (_lock)
        {
            state = _units[unitId];
            if (state.Failures > 0 && _time.GetUtcNow() < state.NextAttempt)
            {
                return []; // Backing off: this cycle reports nothing for the unit.
            }
        }

        // Blocks of one unit are independent reads: keep as many in flight as the link carries (Modbus TCP with
        // MaxInFlight > 1 pipelines them; RTU and a default TCP link read them one after the other).
        var run = new UnitRun(blocks);
        int width = Math.Clamp(_connection.MaxConcurrentRequests, 1, blocks.Count);
        if (width == 1)
        {
            await DrainAsync(unitId, state, run, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var workers = new Task[width];
            using (_connection.HoldWrites())
            {
                // The first request of every reader leaves in one write.
                for (int i = 0; i < width; i++)
                {
                    workers[i] = DrainAsync(unitId, state, run, cancellationToken);
                }
            }

            await Task.WhenAll(workers).ConfigureAwait(false);
        }

        return run.Samples();
    }

    /// <summary>Reads blocks of <paramref name="run"/> one after the other until none is left.</summary>
    private async Task DrainAsync(byte unitId, UnitState state, UnitRun run, CancellationToken cancellationToken)
    {
        while (run.TryTake(out var block, out int slot))
        {
            var samples = new List<ModbusSample>(block.Tags.Count);
            try
            {
                var response = await _connection.SendAsync(unitId, block.ToRequest(), cancellationToken).ConfigureAwait(false);
                Decode(block, response, samples);
                lock (_lock)
                {
                    // A block still in flight when a sibling timed out must not undo that unit's back-off.
                    if (!run.Abandoned)
                    {
                        state.Failures = 0;
                    }
                }
            }
            catch (ModbusDeviceException ex) when (ex.Code is ModbusExceptionCode.IllegalDataAddress or ModbusExceptionCode.IllegalDataValue)
            {
                // An address the device does not have (§7 codes 02/03): halve the block until the bad tag
                // stands alone, so it no longer blinds its neighbours.
                if (ModbusBlockPlanner.Split(block) is var (first, second))
                {
                    ReplaceInPlan(block, first, second);
                    run.Put(slot, samples);
                    run.Enqueue(first, second);
                    continue;
                }

                Bad(block, $"exception {(byte)ex.Code:X2} {ex.Code}", samples);
            }
            catch (ModbusDeviceException ex) when (ex.Code is ModbusExceptionCode.GatewayPathUnavailable or ModbusExceptionCode.GatewayTargetFailedToRespond)
            {
                // A gateway reporting its target unreachable (§7 codes 0A/0B) means the unit is dead, not the address.
                string reason = $"exception {(byte)ex.Code:X2} {ex.Code}";
                Bad(block, reason, samples);
                if (Abandon(run, reason))
                {
                    BackOff(state);
                }
            }
            catch (ModbusDeviceException ex)
            {
                // Busy, device failure, illegal function: this block is Bad this cycle; the plan stays.
                Bad(block, $"exception {(byte)ex.Code:X2} {ex.Code}", samples);
            }
            catch (Exception ex) when (ex is TimeoutException or IOException or ModbusProtocolException)
            {
                // The unit (or the link) is not answering: report this block and the rest of the unit Bad,
                // then back the unit off (once per cycle) so it does not cost the others a timeout every cycle.
                string reason = ex is TimeoutException ? "timeout" : ex.Message;
                Bad(block, reason, samples);
                if (Abandon(run, reason) && ex is not ModbusProtocolException)
                {
                    BackOff(state);
                }
            }

            run.Put(slot, samples);
        }
    }

    /// <summary>Marks every block not yet taken Bad with <paramref name="reason"/>; true for the first call of the run.</summary>
    private bool Abandon(UnitRun run, string reason)
    {
        var (first, rest) = run.Abandon();
        foreach (var (slot, block) in rest)
        {
            var samples = new List<ModbusSample>(block.Tags.Count);
            Bad(block, reason, samples);
            run.Put(slot, samples);
        }

        return first;
    }

    private void BackOff(UnitState state)
    {
        lock (_lock)
        {
            state.Failures++;
            var delay = TimeSpan.FromTicks(Math.Min(
                _options.DeadUnitBackoff.Ticks * (1L << Math.Min(state.Failures - 1, 20)),
                _options.MaxDeadUnitBackoff.Ticks));
            state.NextAttempt = _time.GetUtcNow() + delay;
        }
    }

    private void Decode(ModbusBlock block, ModbusResponse response, List<ModbusSample> samples)
    {
        var now = _time.GetUtcNow();
        foreach (var tag in block.Tags)
        {
            int offset = tag.Address - block.Address;
            try
            {
                double value;
                bool lossy = false;
                if (response.Bits is { } bits)
                {
                    value = bits[offset] ? 1 : 0;
                }
                else
                {
                    var registers = response.Registers.AsSpan(offset, tag.Width);
                    double raw = ModbusValueCodec.DecodeRaw(tag.DataType, tag.WordOrder, registers, tag.BitIndex);
                    lossy = tag.DataType == ModbusDataType.Float32 && Math.Abs(raw) > ModbusTag.Float32ExactLimit;
                    value = (raw * tag.Scale) + tag.Offset;
                }

                samples.Add(new ModbusSample(tag, value, now, ModbusQuality.Good) { Lossy = lossy });
            }
            catch (FormatException ex)
            {
                samples.Add(new ModbusSample(tag, null, now, ModbusQuality.Bad, ex.Message));
            }
        }
    }

    private void Bad(ModbusBlock block, string reason, List<ModbusSample> samples)
    {
        var now = _time.GetUtcNow();
        foreach (var tag in block.Tags)
        {
            samples.Add(new ModbusSample(tag, null, now, ModbusQuality.Bad, reason));
        }
    }

    private void ReplaceInPlan(ModbusBlock block, ModbusBlock first, ModbusBlock second)
    {
        lock (_lock)
        {
            int index = _plan.IndexOf(block);
            if (index >= 0)
            {
                _plan[index] = first;
                _plan.Insert(index + 1, second);
            }
        }
    }

    /// <summary>
    /// One unit's blocks in one cycle: a queue shared by the readers, and the samples of each block in the order the
    /// blocks were taken (the plan's order, split halves after), whatever order the replies came back in.
    /// </summary>
    private sealed class UnitRun(List<ModbusBlock> blocks)
    {
        private readonly Queue<ModbusBlock> _queue = new(blocks);
        private readonly List<List<ModbusSample>?> _results = [];

        /// <summary>Set once a timeout or link failure gave up the rest of the unit this cycle.</summary>
        public bool Abandoned { get; private set; }

        public bool TryTake(out ModbusBlock block, out int slot)
        {
            lock (_queue)
            {
                if (!Abandoned && _queue.TryDequeue(out block!))
                {
                    slot = _results.Count;
                    _results.Add(null);
                    return true;
                }

                block = null!;
                slot = -1;
                return false;
            }
        }

        public void Enqueue(ModbusBlock first, ModbusBlock second)
        {
            lock (_queue)
            {
                _queue.Enqueue(first);
                _queue.Enqueue(second);
            }
        }

        public void Put(int slot, List<ModbusSample> samples)
        {
            lock (_queue)
            {
                _results[slot] = samples;
            }
        }

        /// <summary>Stops the run: the blocks not yet taken (Remaining), each with its result slot; First is true for the first call.</summary>
        public (bool First, List<(int Slot, ModbusBlock Block)> Remaining) Abandon()
        {
            lock (_queue)
            {
                bool first = !Abandoned;
                Abandoned = true;
                var rest = new List<(int, ModbusBlock)>(_queue.Count);
                while (_queue.TryDequeue(out var block))
                {
                    rest.Add((_results.Count, block));
                    _results.Add(null);
                }

                return (first, rest);
            }
        }

        public List<ModbusSample> Samples()
        {
            lock (_queue)
            {
                var all = new List<ModbusSample>(_results.Sum(r => r?.Count ?? 0));
                foreach (var r in _results)
                {
                    if (r is not null)
                    {
                        all.AddRange(r);
                    }
                }

                return all;
            }
        }
    }

    private sealed class UnitState
    {
        public int Failures { get; set; }

        public DateTimeOffset NextAttempt { get; set; }
    }
}
