using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EdgeCollector.Core.Engine;
using EdgeCollector.Modbus;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Server;
using EdgeCollector.Scales;
using EdgeCollector.Serial;
using EdgeCollector.Sim.Modbus;
using EdgeCollector.Sim.OpcUa;
using EdgeCollector.Sim.Scales;
using EdgeCollector.Simulators.Plant;
using ScaleReading = EdgeCollector.Simulators.Plant.ScaleReading;
using FurnaceState = EdgeCollector.Sim.OpcUa.FurnaceState;

namespace EdgeCollector.Simulators.Live;

/// <summary>
/// Plays a <see cref="PlantScenario"/> live on the project's own device simulators, on 127.0.0.1:
/// the furnace PLC over OPC UA (gas totalisers, state, heat number, gas flow, stamped with the
/// simulated time as a PLC's source timestamp), the furnaces' power meters over Modbus TCP
/// (Schneider PM5xxx, int64 Wh), the site's auxiliary meter over Modbus RTU on a socat pty pair
/// (Acrel DTSD1352, uint32 0.01 kWh; Modbus TCP when socat is missing) and every scale in its own
/// protocol behind a simulated serial-to-Ethernet converter (raw TCP server).
/// </summary>
/// <remarks>
/// Totalisers are served as the exact integral of the scenario's piecewise-constant consumption at
/// the current simulated instant, so any read at any time is the truth. A scale shows the reading
/// of its scenario load in force at the current simulated instant (zero between loads) in frames
/// every <see cref="LivePlantOptions.FrameInterval"/> of wall time, as an indicator in continuous
/// mode does; only loads the scenario completes within its period are served. After the period
/// the plant holds (meters frozen, scales at zero) until stopped.
/// </remarks>
public sealed class LivePlant : IAsyncDisposable
{
    /// <summary>Modulus of the PLC's gas totalisers (Nm3); the collector config declares it as <c>Counter.Max</c>.</summary>
    public const double GasModulus = 100_000_000;

    /// <summary>Modulus of the Acrel meter's uint32 register in kWh (2^32 × 0.01); its <c>Counter.Max</c>.</summary>
    public const double AuxModulus = 42_949_672.96;

    /// <summary>Scale protocol per role: all three send a motion flag.</summary>
    public static string ProtocolOf(ScaleKind kind) => kind switch
    {
        ScaleKind.Charge => ScaleProtocols.ToledoContinuous,
        ScaleKind.Tap => ScaleProtocols.And,
        _ => ScaleProtocols.MtSics,
    };

    private readonly LivePlantOptions _options;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<MeterFeed> _meters = [];
    private readonly List<ScaleFeed> _scales = [];
    private readonly List<(long WriteAt, string Line)> _picks = [];
    private readonly ModbusUnitMap _tcpUnits = new();
    private readonly ModbusUnitMap _rtuUnits = new();
    private readonly List<(PlantFault Fault, bool Started, bool Ended)> _faults;
    private readonly object _gate = new();
    private FurnacePlcSimulator? _plc;
    private ModbusTcpSlave? _modbus;
    private ModbusRtuSlave? _rtu;
    private Process? _socat;
    private string? _ptyDir;
    private Task? _loop;
    private int _nextPick;
    private long _servedUntil;
    private long _frames;
    private long _longestGap;
    private long _longestGapEnd;
    private long _longGaps;

    private LivePlant(LivePlantOptions options, ScenarioResult scenario)
    {
        _options = options;
        Scenario = scenario;
        _faults = options.Faults.Select(f => (f, false, false)).ToList();
    }

    /// <summary>The scenario played (its ground truth is what the plant serves).</summary>
    public ScenarioResult Scenario { get; }

    /// <summary>The shared simulated clock.</summary>
    public SimClock Clock { get; private set; } = null!;


    /// <summary>OPC UA endpoint of the furnace PLC.</summary>
    public string OpcUaEndpoint { get; private set; } = "";

    /// <summary>Port of the Modbus TCP slave (power meters; the aux meter too when not on RTU).</summary>
    public int ModbusPort { get; private set; }

    /// <summary>The collector's end of the aux meter's RTU line, or null when the aux meter is on Modbus TCP (unit 100).</summary>
    public string? AuxSerialPort { get; private set; }

    /// <summary>Scale name → TCP port of its converter.</summary>
    public IReadOnlyDictionary<string, int> ScalePorts => _scales.ToDictionary(s => s.Name, s => s.Port, StringComparer.Ordinal);

    /// <summary>Scales whose converter has a client connected now.</summary>
    public int ConnectedScales => _scales.Count(s => s.Connected);

    /// <summary>Scale frames sent so far.</summary>
    public long FramesSent => Interlocked.Read(ref _frames);

    /// <summary>Faults that have fired, with the simulated time they fired at.</summary>
    public List<string> FaultLog { get; } = [];

    /// <summary>Longest wall time between two ticks of the plant's serving loop (a stall of the plant's own process).</summary>
    public TimeSpan LongestServeGap => TimeSpan.FromTicks(Interlocked.Read(ref _longestGap));

    /// <summary>The simulated instant the longest gap ended, and how many gaps were longer than 50 ms wall.</summary>
    public string ServeGaps => $"longest {LongestServeGap.TotalMilliseconds:0} ms wall, ended at {GroundTruth.FormatTime(Interlocked.Read(ref _longestGapEnd))}; {Interlocked.Read(ref _longGaps)} gaps > 50 ms; thread pool now {ThreadPool.ThreadCount} threads, {ThreadPool.PendingWorkItemCount} queued, {ThreadPool.CompletedWorkItemCount} done; GC paused {GC.GetTotalPauseDuration().TotalMilliseconds:0} ms in all, {GC.CollectionCount(2)} gen2";

    /// <summary>
    /// Diagnosis of compressed runs: every load whose settled (non-motion) weight went out on the wire for
    /// less than StableSeconds of simulated time (so no ticket could be made from what was sent), with
    /// the frames sent and their simulated span.
    /// </summary>
    public IReadOnlyList<string> ThinlySentLoads()
    {
        long stable = (long)(_options.Scenario.StableSeconds * TimeSpan.TicksPerSecond);
        lock (_gate)
        {
            return _scales.SelectMany(s => s.ThinlySent(stable)).ToList();
        }
    }

    /// <summary>Whether the whole scenario period has been served.</summary>
    public bool Finished => Interlocked.Read(ref _servedUntil) >= _options.Scenario.End.UtcTicks;

    /// <summary>Simulated instant served so far (UTC ticks).</summary>
    public long ServedUntil => Interlocked.Read(ref _servedUntil);

    /// <summary>The options played.</summary>
    public LivePlantOptions Options => _options;

    /// <summary>Thread-pool minimum of a process that serves the plant (see <see cref="RaiseThreadPoolMinimum"/>).</summary>
    public const int MinThreads = 16;

    /// <summary>
    /// The plant serves every device from the process's thread pool, usually next to a collector (the demo) or a
    /// test host. With the default minimum (one thread per core, 2 here) the pool starved under load and the
    /// 4-ms frame loop stalled up to 1 s of wall time — in compressed time whole scale loads that were never
    /// sent. With 16 the longest gap seen was 15 ms (<see cref="ServeGaps"/>). Never lowers a higher minimum.
    /// </summary>
    public static void RaiseThreadPoolMinimum()
    {
        ThreadPool.GetMinThreads(out int workers, out int io);
        if (workers < MinThreads || io < MinThreads)
        {
            ThreadPool.SetMinThreads(Math.Max(workers, MinThreads), Math.Max(io, MinThreads));
        }
    }

    /// <summary>Generates the scenario, starts every device and the clock (the scenario starts after <see cref="LivePlantOptions.Lead"/>).</summary>
    public static async Task<LivePlant> StartAsync(LivePlantOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        RaiseThreadPoolMinimum();
        var plant = new LivePlant(options, new PlantScenario(options.Scenario).Generate());
        try
        {
            await plant.StartDevicesAsync(cancellationToken);
        }
        catch
        {
            await plant.DisposeAsync();
            throw;
        }

        return plant;
    }

    private async Task StartDevicesAsync(CancellationToken ct)
    {
        var scenario = _options.Scenario;
        var furnaces = scenario.FurnaceIds;

        for (int f = 0; f < furnaces.Count; f++)
        {
            var run = Scenario.Furnaces[f];
            var meter = new SchneiderPm5xxxMeter((byte)(f + 1));
            meter.AttachTo(_tcpUnits);
            _meters.Add(new MeterFeed(run.Gas, GasModulus, null, (byte)0));
            _meters.Add(new MeterFeed(run.Power, 0, meter, (byte)(f + 1)));
        }

        bool rtu = _options.AuxOverRtu && SocatAvailable();
        var aux = new AcrelDtsd1352Meter(rtu ? (byte)1 : (byte)100);
        aux.AttachTo(rtu ? _rtuUnits : _tcpUnits);
        _meters.Add(new MeterFeed(Scenario.Aux, AuxModulus, aux, aux.UnitId) { OnRtu = rtu });

        _plc = await StartPlcAsync(_options.OpcUaPort, ct);
        OpcUaEndpoint = _plc.EndpointUrl;
        _modbus = new ModbusTcpSlave(_tcpUnits, new IPEndPoint(IPAddress.Loopback, _options.ModbusPort)).Start();
        ModbusPort = _modbus.LocalEndPoint.Port;
        if (rtu)
        {
            AuxSerialPort = await StartRtuLineAsync(ct);
        }

        foreach (var run in Scenario.Furnaces)
        {
            foreach (var kind in Enum.GetValues<ScaleKind>())
            {
                string name = ScenarioOptions.ScaleName(run.Id, kind);
                var codec = ScaleProtocols.Create(ProtocolOf(kind));
                var loads = run.Weighings.Where(w => w.Recorded && w.Scale == name).OrderBy(w => w.Readings[0].Ticks).ToList();
                var feed = new ScaleFeed(name, codec, loads, _options.CorruptionSeed + _scales.Count);
                feed.Listen(0);
                _scales.Add(feed);
            }
        }

        PlanPicks();
        _servedUntil = scenario.Start.UtcTicks;
        Clock = new SimClock(scenario.Start, DateTimeOffset.UtcNow + _options.Lead, _options.Speed);
        foreach (var s in _scales)
        {
            s.AcceptLoop = Task.Run(() => s.AcceptAsync(_stop.Token));
        }

        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    private async Task<FurnacePlcSimulator> StartPlcAsync(int port, CancellationToken ct)
    {
        var plc = new FurnacePlcSimulator(new FurnacePlcOptions
        {
            Furnaces = _options.Scenario.FurnaceIds,
            TickInterval = null,
            Server = new UaServerOptions
            {
                ApplicationUri = "urn:edgecollector:sim:furnace-plc",
                ApplicationName = "Simulated melt shop PLC",
                Port = port,
                MinPublishingInterval = TimeSpan.FromMilliseconds(5),
            },
        });
        // Every node carries simulated time and the plant's values before the server answers anyone:
        // a PLC restarted mid-run must not show its power-on zeros or the wall clock.
        long start = _options.Scenario.Start.UtcTicks;
        long now = Clock is null ? start : Math.Max(start, Clock.GetUtcNow().UtcTicks);
        long t = Math.Min(now, _options.Scenario.End.UtcTicks);
        lock (_gate)
        {
            var previous = _plc;
            _plc = plc;
            UpdateMeters(t, now);
            UpdatePlc(t);
            _plc = previous;
        }

        await plc.StartAsync(ct);
        return plc;
    }

    private async Task<string> StartRtuLineAsync(CancellationToken ct)
    {
        _ptyDir = Directory.CreateTempSubdirectory("edge-plant-pty-").FullName;
        string a = Path.Combine(_ptyDir, "plant"), b = Path.Combine(_ptyDir, "collector");
        var psi = new ProcessStartInfo("socat") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string arg in new[] { "-d", "-d", $"pty,raw,echo=0,link={a}", $"pty,raw,echo=0,link={b}" })
        {
            psi.ArgumentList.Add(arg);
        }

        _socat = Process.Start(psi) ?? throw new InvalidOperationException("socat did not start");
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _socat.ErrorDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("starting data transfer loop", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        _socat.BeginErrorReadLine();
        _socat.BeginOutputReadLine();
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(10), ct);
        _rtu = ModbusRtuSlave.Start(new SerialPortSettings(a, 19200), _rtuUnits);
        return b;
    }

    private static bool SocatAvailable() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => d.Length > 0 && File.Exists(Path.Combine(d, "socat")));

    /// <summary>
    /// The simulated operator picks each charge's material once the furnace's previous charge is
    /// off the scale (so it is in the collector before the load, whatever the speed), stamped then.
    /// </summary>
    private void PlanPicks()
    {
        if (_options.OperatorInbox is null)
        {
            return;
        }

        long start = _options.Scenario.Start.UtcTicks;
        foreach (var run in Scenario.Furnaces)
        {
            var charges = run.Weighings.Where(w => w.Kind == ScaleKind.Charge && w.Recorded).OrderBy(w => w.Readings[0].Ticks).ToList();
            foreach (var pick in run.Picks.Where(p => p.For.Recorded))
            {
                int i = charges.IndexOf(pick.For);
                long at = i > 0 ? charges[i - 1].Readings[^1].Ticks + TimeSpan.TicksPerSecond : start;
                string json = RecordCodec.Write(new MaterialPickRecord(at, run.Id, pick.Material));
                var node = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
                node["by"] = "plant-sim";
                _picks.Add((at, node.ToJsonString()));
            }
        }

        _picks.Sort((x, y) => x.WriteAt.CompareTo(y.WriteAt));
    }

    private async Task RunAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_options.FrameInterval);
        long end = _options.Scenario.End.UtcTicks;
        long start = _options.Scenario.Start.UtcTicks;
        long lastWall = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            do
            {
                long wall = System.Diagnostics.Stopwatch.GetTimestamp();
                long gap = System.Diagnostics.Stopwatch.GetElapsedTime(lastWall, wall).Ticks;
                lastWall = wall;
                long now = Clock.GetUtcNow().UtcTicks;
                if (now > start && now < end && gap > Interlocked.Read(ref _longestGap))
                {
                    // Only while the scenario plays (the lead and the hold after it do not matter).
                    Interlocked.Exchange(ref _longestGap, gap);
                    Interlocked.Exchange(ref _longestGapEnd, now);
                }

                if (now > start && now < end && gap > 50 * TimeSpan.TicksPerMillisecond)
                {
                    Interlocked.Increment(ref _longGaps);
                }

                await ApplyFaultsAsync(now - start, ct);
                long t = Math.Min(now, end);
                lock (_gate)
                {
                    UpdateMeters(t, now);
                    UpdatePlc(t);
                    foreach (var s in _scales)
                    {
                        if (s.Send(now < end ? s.ReadingAt(now) : new ScaleReading(now, 0, false)))
                        {
                            Interlocked.Increment(ref _frames);
                        }
                    }
                }

                await WritePicksAsync(now, ct);
                Interlocked.Exchange(ref _servedUntil, t);
            }
            while (await timer.WaitForNextTickAsync(ct));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private void UpdateMeters(long t, long now)
    {
        var stamp = new DateTime(now, DateTimeKind.Utc);
        foreach (var m in _meters)
        {
            double value = m.Displayed(t, now);
            switch (m.Device)
            {
                case SchneiderPm5xxxMeter pm:
                    pm.SetEnergyKWh(value);
                    break;
                case AcrelDtsd1352Meter acrel:
                    acrel.SetEnergyKWh(value);
                    break;
                default:
                    if (_plc is { } plc && plc.AddressSpace.TryGetNode(plc.TagId(FurnaceOf(m.Series), "GasTotal"), out var node) && node is UaVariableNode v)
                    {
                        v.SetValue(new Variant(value), default, stamp);
                    }

                    break;
            }
        }
    }

    private string FurnaceOf(MeterSeries s) => _options.Scenario.FurnaceIds[s.Furnace];

    private void UpdatePlc(long t)
    {
        if (_plc is not { } plc)
        {
            return;
        }

        var stamp = new DateTime(t, DateTimeKind.Utc);
        foreach (var run in Scenario.Furnaces)
        {
            var span = run.PhaseAt(t);
            int state = span.Phase switch
            {
                FurnacePhase.Charging => (int)FurnaceState.Charging,
                FurnacePhase.Melting => (int)FurnaceState.Melting,
                FurnacePhase.Holding => (int)FurnaceState.Holding,
                FurnacePhase.Tapping or FurnacePhase.Skimming => (int)FurnaceState.Tapping,
                _ => (int)FurnaceState.Idle,
            };
            bool seed = !ReferenceEquals(_seeded, plc);
            SetIfChanged(plc, run.Id, "State", new Variant(state), stamp, seed);
            SetIfChanged(plc, run.Id, "HeatNo", new Variant((uint)Math.Max(0, span.Heat)), stamp, seed);
            if (seed)
            {
                // Every node the PLC serves carries simulated time, never the wall clock of its start.
                SetIfChanged(plc, run.Id, "GasFlow", new Variant(0.0), stamp, seed);
                SetIfChanged(plc, run.Id, "BathTemp", new Variant(25.0), stamp, seed);
                SetIfChanged(plc, run.Id, "HeelMass", new Variant(0.0), stamp, seed);
            }
        }

        _seeded = plc;
    }

    private FurnacePlcSimulator? _seeded;

    private static void SetIfChanged(FurnacePlcSimulator plc, string furnace, string tag, Variant value, DateTime stamp, bool always)
    {
        if (plc.AddressSpace.TryGetNode(plc.TagId(furnace, tag), out var node) && node is UaVariableNode v && (always || !Equals(v.Value.Value.Value, value.Value)))
        {
            v.SetValue(value, default, stamp);
        }
    }

    private async Task WritePicksAsync(long now, CancellationToken ct)
    {
        if (_options.OperatorInbox is not { } inbox || _nextPick >= _picks.Count || _picks[_nextPick].WriteAt > now)
        {
            return;
        }

        var text = new StringBuilder();
        while (_nextPick < _picks.Count && _picks[_nextPick].WriteAt <= now)
        {
            text.Append(_picks[_nextPick++].Line).Append('\n');
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(inbox))!);
        await using var file = new FileStream(inbox, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        await file.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), ct);
    }

    // ------------------------------------------------------------------ faults

    private async Task ApplyFaultsAsync(long sinceStart, CancellationToken ct)
    {
        for (int i = 0; i < _faults.Count; i++)
        {
            var (fault, started, ended) = _faults[i];
            if (!started && sinceStart >= fault.At.Ticks)
            {
                _faults[i] = (fault, true, false);
                Log($"{fault}: on");
                await SwitchAsync(fault, on: true, ct);
                started = true;
                if (fault.For is null && fault.Kind is not PlantFaultKind.Restart)
                {
                    _faults[i] = (fault, true, true);
                    continue;
                }
            }

            if (started && !ended && sinceStart >= (fault.At + (fault.For ?? TimeSpan.Zero)).Ticks)
            {
                _faults[i] = (fault, true, true);
                Log($"{fault}: off");
                await SwitchAsync(fault, on: false, ct);
            }
        }
    }

    private void Log(string text)
    {
        lock (FaultLog)
        {
            FaultLog.Add(GroundTruth.FormatTime(Clock.GetUtcNow().UtcTicks) + " " + text);
        }
    }

    private async Task SwitchAsync(PlantFault fault, bool on, CancellationToken ct)
    {
        switch (fault.Kind)
        {
            case PlantFaultKind.Drop when fault.Target == "plc":
            case PlantFaultKind.Restart:
                if (on && _plc is { } plc)
                {
                    int port = plc.Server.Port;
                    lock (_gate)
                    {
                        _plc = null;
                    }

                    await plc.DisposeAsync();
                    _restartPort = port;
                }
                else if (!on)
                {
                    var restarted = await StartPlcAsync(_restartPort, ct);
                    lock (_gate)
                    {
                        _plc = restarted;
                    }
                }

                break;
            case PlantFaultKind.Drop when fault.Target == "meters":
                if (on && _modbus is { } slave)
                {
                    _modbus = null;
                    await slave.DisposeAsync();
                }
                else if (!on)
                {
                    _modbus = new ModbusTcpSlave(_tcpUnits, new IPEndPoint(IPAddress.Loopback, ModbusPort)).Start();
                }

                break;
            case PlantFaultKind.Drop or PlantFaultKind.Stall when fault.Target is "meters" or "aux" || _meters.Any(m => m.Series.Tag == fault.Target):
                foreach (var m in _meters.Where(m => m.Device is not null && (fault.Target == m.Series.Tag
                    || (fault.Target == "aux" && m.OnRtu) || (fault.Target == "meters" && !m.OnRtu))))
                {
                    (m.OnRtu ? _rtuUnits : _tcpUnits).SetMuted(m.UnitId, on);
                }

                break;
            case PlantFaultKind.Drop:
                foreach (var s in _scales.Where(s => s.Name == fault.Target))
                {
                    s.SetDropped(on);
                }

                break;
            case PlantFaultKind.Corrupt:
                lock (_gate)
                {
                    foreach (var s in _scales.Where(s => fault.Target is "scales" || s.Name == fault.Target))
                    {
                        s.SetCorruption(on ? fault.Percent : 0);
                    }
                }

                break;
            case PlantFaultKind.Reset when on:
                lock (_gate)
                {
                    foreach (var m in _meters.Where(m => m.Series.Tag == fault.Target))
                    {
                        m.ResetAt(_options.Scenario.Start.UtcTicks + fault.At.Ticks);
                    }
                }

                break;
            default:
                break;
        }
    }

    private int _restartPort;

    /// <summary>Called before the clock runs: a rollover is planned into the meter's offset from the start.</summary>
    private void PlanRollovers()
    {
        foreach (var fault in _options.Faults.Where(f => f.Kind == PlantFaultKind.Rollover))
        {
            var meter = _meters.FirstOrDefault(m => m.Series.Tag == fault.Target && m.Modulus > 0)
                ?? throw new ArgumentException($"--fault {fault}: only {string.Join(", ", _meters.Where(m => m.Modulus > 0).Select(m => m.Series.Tag))} have a modulus (Counter.Max)");
            meter.RollAt(_options.Scenario.Start.UtcTicks + fault.At.Ticks);
        }
    }

    /// <summary>Checks the fault targets against the plant (called by <see cref="StartAsync"/> via the CLI before serving).</summary>
    public void ValidateFaults()
    {
        var names = new HashSet<string>(_scales.Select(s => s.Name).Concat(_meters.Select(m => m.Series.Tag)).Concat(["plc", "meters", "aux", "scales"]), StringComparer.Ordinal);
        foreach (var f in _options.Faults)
        {
            if (!names.Contains(f.Target))
            {
                throw new ArgumentException($"--fault {f}: unknown target '{f.Target}' (one of {string.Join(", ", names.Order(StringComparer.Ordinal))})");
            }

            bool ok = f.Kind switch
            {
                PlantFaultKind.Restart => f.Target == "plc",
                PlantFaultKind.Corrupt => f.Target == "scales" || _scales.Any(s => s.Name == f.Target),
                PlantFaultKind.Reset or PlantFaultKind.Rollover => _meters.Any(m => m.Series.Tag == f.Target),
                PlantFaultKind.Stall => f.Target is "meters" or "aux" || _meters.Any(m => m.Series.Tag == f.Target && m.Device is not null),
                _ => f.Target != "scales" && !(_meters.Any(m => m.Series.Tag == f.Target && m.Device is null)),
            };
            if (!ok)
            {
                throw new ArgumentException($"--fault {f}: {f.Kind.ToString().ToLowerInvariant()} does not apply to '{f.Target}'");
            }
        }

        PlanRollovers();
    }

    /// <summary>
    /// Writes the ground truth of what was served: the whole scenario once it has run to its end (or
    /// with <paramref name="plan"/>, before), else the served prefix (whole meter intervals).
    /// </summary>
    public void WriteTruth(string path, bool plan = false)
    {
        var o = _options.Scenario;
        var result = Scenario;
        if (!Finished && !plan)
        {
            long step = o.MeterReadSeconds * TimeSpan.TicksPerSecond;
            long served = (ServedUntil - o.Start.UtcTicks) / step * step;
            if (served <= 0)
            {
                return;
            }

            result = new PlantScenario(o with { Duration = TimeSpan.FromTicks(served) }).Generate();
        }

        string full = Path.GetFullPath(path);
        using (var stream = new FileStream(full + ".tmp", FileMode.Create, FileAccess.Write, FileShare.None))
        {
            result.WriteTruth(stream);
        }

        File.Move(full + ".tmp", full, overwrite: true);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }

        foreach (var s in _scales)
        {
            s.Dispose();
            if (s.AcceptLoop is { } accept)
            {
                await accept;
            }
        }

        if (_plc is not null)
        {
            await _plc.DisposeAsync();
        }

        if (_modbus is not null)
        {
            await _modbus.DisposeAsync();
        }

        if (_rtu is not null)
        {
            await _rtu.DisposeAsync();
        }

        if (_socat is { HasExited: false })
        {
            _socat.Kill();
            await _socat.WaitForExitAsync();
        }

        _socat?.Dispose();
        if (_ptyDir is not null)
        {
            try
            {
                Directory.Delete(_ptyDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }

        _stop.Dispose();
    }

    // ------------------------------------------------------------------ feeds

    /// <summary>One totaliser: the scenario's series, served through a device (null = the PLC's GasTotal).</summary>
    private sealed class MeterFeed
    {
        private readonly long[] _cumulative;
        private double _offset;
        private long _resetAt = long.MaxValue;

        public MeterFeed(MeterSeries series, double modulus, SimulatedModbusDevice? device, byte unitId)
        {
            Series = series;
            Modulus = modulus;
            Device = device;
            UnitId = unitId;
            _cumulative = new long[series.IncrementsMilli.Length + 1];
            for (int k = 0; k < series.IncrementsMilli.Length; k++)
            {
                _cumulative[k + 1] = _cumulative[k] + series.IncrementsMilli[k];
            }
        }

        public MeterSeries Series { get; }
        public double Modulus { get; }
        public SimulatedModbusDevice? Device { get; }
        public byte UnitId { get; }
        public bool OnRtu { get; init; }

        /// <summary>The physical totaliser at <paramref name="t"/> (exact integral of the scenario).</summary>
        public double TrueValue(long t)
        {
            int n = Series.IncrementsMilli.Length;
            long rel = Math.Clamp(t - Series.GridStart, 0, Series.Step * n);
            int k = (int)(rel / Series.Step);
            double milli = Series.InitialMilli + _cumulative[Math.Min(k, n)];
            if (k < n)
            {
                milli += Series.IncrementsMilli[k] * ((double)(rel - (k * Series.Step)) / Series.Step);
            }

            return milli / 1000.0;
        }

        /// <summary>What the device shows: after a reset it counts from zero; with a modulus it wraps.</summary>
        public double Displayed(long t, long now)
        {
            double v = TrueValue(t) + _offset;
            if (now >= _resetAt)
            {
                v = TrueValue(t) - TrueValue(_resetAt);
            }

            return Modulus > 0 ? v % Modulus : v;
        }

        public void ResetAt(long t) => _resetAt = t;

        /// <summary>Shifts the display so it passes its modulus exactly at <paramref name="t"/>.</summary>
        public void RollAt(long t) => _offset = Modulus - TrueValue(t);
    }

    /// <summary>One scale behind a serial-to-Ethernet converter in raw TCP-server mode.</summary>
    private sealed class ScaleFeed(string name, ScaleCodec codec, List<Weighing> loads, int seed) : IDisposable
    {
        private readonly object _lock = new();
        private TcpListener? _listener;
        private Socket? _client;
        private ScaleCorruptor _corruptor = new(codec, 0, seed);
        private int _load;
        private bool _dropped;
        /// <summary>Per load: settled frames sent and the simulated span they covered.</summary>
        private readonly (int Frames, long First, long Last)[] _sent = new (int, long, long)[loads.Count];

        public string Name => name;
        public int Port { get; private set; }

        public bool Connected
        {
            get
            {
                lock (_lock)
                {
                    return _client is not null;
                }
            }
        }
        public Task? AcceptLoop { get; set; }

        public void Listen(int port)
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            Port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (_lock)
            {
                _listener = listener;
            }
        }

        public async Task AcceptAsync(CancellationToken ct)
        {
            while (!ct.IsCancellationRequested)
            {
                TcpListener? listener;
                lock (_lock)
                {
                    listener = _listener;
                }

                if (listener is null)
                {
                    try
                    {
                        await Task.Delay(20, ct);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }

                    continue;
                }

                try
                {
                    var socket = await listener.AcceptSocketAsync(ct);
                    socket.NoDelay = true;
                    socket.Blocking = false;
                    lock (_lock)
                    {
                        _client?.Dispose();
                        _client = socket;
                    }
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidOperationException)
                {
                    // The listener was closed by a drop; the loop waits for the restore.
                }
            }
        }

        /// <summary>The reading of the load in force at <paramref name="now"/>, zero between loads.</summary>
        public ScaleReading ReadingAt(long now)
        {
            _servedAt = now;
            while (_load < loads.Count && loads[_load].Readings[^1].Ticks < now)
            {
                _load++;
            }

            if (_load >= loads.Count || loads[_load].Readings[0].Ticks > now)
            {
                return new ScaleReading(now, 0, false);
            }

            var readings = loads[_load].Readings;
            var current = readings[0];
            foreach (var r in readings)
            {
                if (r.Ticks > now)
                {
                    break;
                }

                current = r;
            }

            return current;
        }

        /// <summary>Sends one frame without blocking (a frame that does not fit the socket buffer is lost, as on a serial line).</summary>
        public bool Send(ScaleReading reading)
        {
            Socket? client;
            lock (_lock)
            {
                client = _client;
            }

            if (client is null)
            {
                return false;
            }

            var frame = codec.Encode(ScaleFrame.Gross((decimal)reading.GrossKg, reading.Motion));
            var (bytes, _) = _corruptor.Apply(frame);
            try
            {
                client.Send(bytes, SocketFlags.None, out var error);
                if (error is SocketError.Success or SocketError.WouldBlock)
                {
                    if (error == SocketError.Success && !reading.Motion && reading.GrossKg > 0 && _load < loads.Count)
                    {
                        long now = _servedAt;
                        ref var sent = ref _sent[_load];
                        sent = sent.Frames == 0 ? (1, now, now) : (sent.Frames + 1, sent.First, now);
                    }

                    return error == SocketError.Success;
                }
            }
            catch (ObjectDisposedException)
            {
            }

            lock (_lock)
            {
                if (ReferenceEquals(_client, client))
                {
                    _client = null;
                }
            }

            client.Dispose();
            return false;
        }

        /// <summary>The simulated instant of the latest <see cref="ReadingAt"/> (the frame going out).</summary>
        private long _servedAt;

        public IEnumerable<string> ThinlySent(long stableTicks)
        {
            for (int i = 0; i < loads.Count && loads[i].Readings[0].Ticks < _servedAt; i++)
            {
                var (frames, first, last) = _sent[i];
                if (last - first < stableTicks)
                {
                    yield return $"{name} {loads[i].Kg} kg (stable {GroundTruth.FormatTime(loads[i].StableAt)}): {frames} settled frames sent over {TimeSpan.FromTicks(last - first).TotalSeconds:0.###} s";
                }
            }
        }

        public void SetCorruption(double percent) => _corruptor = new ScaleCorruptor(codec, percent, seed);

        /// <summary>Drop: the converter goes away (connection reset, port closed); restore: it listens again on the same port.</summary>
        public void SetDropped(bool dropped)
        {
            lock (_lock)
            {
                if (dropped == _dropped)
                {
                    return;
                }

                _dropped = dropped;
                if (dropped)
                {
                    _listener?.Stop();
                    _listener = null;
                    if (_client is { } c)
                    {
                        c.LingerState = new LingerOption(true, 0);
                        c.Dispose();
                        _client = null;
                    }
                }
            }

            if (!dropped)
            {
                Listen(Port);
            }
        }

        public void Dispose()
        {
            lock (_lock)
            {
                _listener?.Stop();
                _listener = null;
                _client?.Dispose();
                _client = null;
            }
        }
    }
}
