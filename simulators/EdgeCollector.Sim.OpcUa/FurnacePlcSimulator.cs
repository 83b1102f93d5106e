using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;
using EdgeCollector.OpcUa.Server;

namespace EdgeCollector.Sim.OpcUa;

/// <summary>Furnace states as the PLC reports them in <c>State</c> (Int32).</summary>
public enum FurnaceState
{
    Idle = 0,
    Charging = 1,
    Melting = 2,
    Holding = 3,
    Tapping = 4,
}

/// <summary>Options of <see cref="FurnacePlcSimulator"/>.</summary>
public sealed record FurnacePlcOptions
{
    /// <summary>Furnace ids; each gets a data block <c>"DB_{id}"</c>.</summary>
    public IReadOnlyList<string> Furnaces { get; init; } = ["F1", "F2"];

    /// <summary>Server options (port 0 = free port on 127.0.0.1).</summary>
    public UaServerOptions Server { get; init; } = new() { ApplicationUri = "urn:edgecollector:sim:furnace-plc", ApplicationName = "Furnace PLC simulator" };

    /// <summary>Simulation step; null runs no clock (tests drive <see cref="FurnacePlcSimulator.Step"/>).</summary>
    public TimeSpan? TickInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Simulated time per real time (60 = one simulated minute per second).</summary>
    public double TimeScale { get; init; } = 60;

    /// <summary>Simulated minutes per phase: charging, melting, holding, tapping, idle.</summary>
    public (double Charging, double Melting, double Holding, double Tapping, double Idle) PhaseMinutes { get; init; } = (20, 90, 30, 15, 10);

    /// <summary>Namespaces registered before the PLC one (index 2, …); one by default, so the PLC lands at 3.</summary>
    public IReadOnlyList<string> NamespacesBeforePlc { get; init; } = [FurnacePlcSimulator.DiagnosticsNamespace];

    /// <summary>Burner gas flow while melting (Nm³/h); holding uses a third.</summary>
    public double MeltingGasFlow { get; init; } = 900;
}

/// <summary>
/// A furnace PLC that looks like a Siemens S7-1500 OPC UA server: the PLC tags live in
/// <c>http://www.siemens.com/simatic-s7-opcua</c> at namespace index 3 (two namespaces are registered first,
/// so clients must resolve the index), with NodeIds such as <c>ns=3;s="DB_F1"."GasTotal"</c>. Per furnace:
/// State (Int32 0 idle … 4 tapping), HeatNo (UInt32), GasTotal (Double Nm³, a totaliser), GasFlow (Double Nm³/h),
/// BathTemp (Double °C) and HeelMass (Double kg).
/// </summary>
public sealed class FurnacePlcSimulator : IAsyncDisposable
{
    /// <summary>The namespace of the PLC tags.</summary>
    public const string PlcNamespace = "http://www.siemens.com/simatic-s7-opcua";

    /// <summary>A namespace registered before the PLC one, as real S7 servers do.</summary>
    public const string DiagnosticsNamespace = "http://opcfoundation.org/UA/DI/";

    private readonly FurnacePlcOptions _options;
    private readonly Dictionary<string, Furnace> _furnaces = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private Task? _clock;

    /// <summary>Builds the address space; call <see cref="StartAsync"/> to serve it.</summary>
    public FurnacePlcSimulator(FurnacePlcOptions? options = null)
    {
        _options = options ?? new FurnacePlcOptions();
        AddressSpace = new UaAddressSpace(_options.Server.ApplicationUri);
        foreach (var uri in _options.NamespacesBeforePlc)
            AddressSpace.RegisterNamespace(uri);
        PlcNamespaceIndex = AddressSpace.RegisterNamespace(PlcNamespace);
        var ns = PlcNamespaceIndex;
        var plc = AddressSpace.AddObject(new NodeId(ns, "PLC_1"), new QualifiedName(ns, "PLC_1"), WellKnownNodes.ObjectsFolder);
        var blocks = AddressSpace.AddObject(new NodeId(ns, "DataBlocksGlobal"), new QualifiedName(ns, "DataBlocksGlobal"), plc.NodeId, WellKnownNodes.Organizes);
        foreach (var id in _options.Furnaces)
        {
            var db = $"\"DB_{id}\"";
            var block = AddressSpace.AddObject(new NodeId(ns, db), new QualifiedName(ns, $"DB_{id}"), blocks.NodeId, WellKnownNodes.Organizes, WellKnownNodes.BaseObjectType);
            UaVariableNode Add(string name, Variant initial, NodeId type, bool writable = false, (double, double)? range = null) =>
                AddressSpace.AddVariable(new NodeId(ns, $"{db}.\"{name}\""), new QualifiedName(ns, name), block.NodeId, initial, type, writable, range);
            _furnaces[id] = new Furnace(
                Add("State", new Variant((int)FurnaceState.Idle), WellKnownNodes.Int32Type, writable: true),
                Add("HeatNo", new Variant(0u), WellKnownNodes.UInt32Type, writable: true),
                Add("GasTotal", new Variant(0.0), WellKnownNodes.DoubleType),
                Add("GasFlow", new Variant(0.0), WellKnownNodes.DoubleType, range: (0, 2000)),
                Add("BathTemp", new Variant(25.0), WellKnownNodes.DoubleType, range: (0, 1000)),
                Add("HeelMass", new Variant(2000.0), WellKnownNodes.DoubleType, writable: true));
        }

        Server = new UaServer(AddressSpace, _options.Server);
    }

    /// <summary>The address space (for extra nodes in tests).</summary>
    public UaAddressSpace AddressSpace { get; }

    /// <summary>The OPC UA server.</summary>
    public UaServer Server { get; }

    /// <summary>Index of <see cref="PlcNamespace"/> (3 unless <see cref="FurnacePlcOptions.NamespacesBeforePlc"/> changes it).</summary>
    public ushort PlcNamespaceIndex { get; }

    /// <summary>The endpoint URL (after start).</summary>
    public string EndpointUrl => Server.EndpointUrl;

    /// <summary>The NodeId of a furnace tag, e.g. <c>TagId("F1", "GasTotal")</c> = <c>ns=3;s="DB_F1"."GasTotal"</c>.</summary>
    public NodeId TagId(string furnace, string tag) => new(PlcNamespaceIndex, $"\"DB_{furnace}\".\"{tag}\"");

    /// <summary>Starts the server and (unless disabled) the process clock.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await Server.StartAsync(cancellationToken);
        if (_options.TickInterval is { } tick)
            _clock = RunClockAsync(tick);
    }

    private async Task RunClockAsync(TimeSpan tick)
    {
        using var timer = new PeriodicTimer(tick);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
                Step(tick * _options.TimeScale);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The current state of a furnace.</summary>
    public FurnaceState StateOf(string furnace) => (FurnaceState)(int)_furnaces[furnace].State.Value.Value.Value!;

    /// <summary>Forces a furnace into a state (as an operator would); a new charge starts a new heat.</summary>
    public void SetState(string furnace, FurnaceState state)
    {
        var f = _furnaces[furnace];
        lock (f)
            Enter(f, state);
    }

    /// <summary>Advances the process model by <paramref name="simulated"/> time.</summary>
    public void Step(TimeSpan simulated)
    {
        var hours = simulated.TotalHours;
        foreach (var f in _furnaces.Values)
        {
            lock (f)
            {
                f.InPhase += simulated;
                var state = (FurnaceState)(int)f.State.Value.Value.Value!;
                var phase = _options.PhaseMinutes;
                var limit = state switch
                {
                    FurnaceState.Charging => phase.Charging,
                    FurnaceState.Melting => phase.Melting,
                    FurnaceState.Holding => phase.Holding,
                    FurnaceState.Tapping => phase.Tapping,
                    _ => phase.Idle,
                };
                if (f.InPhase.TotalMinutes >= limit)
                    Enter(f, state == FurnaceState.Tapping ? FurnaceState.Idle : state + 1);
                state = (FurnaceState)(int)f.State.Value.Value.Value!;
                var flow = state switch
                {
                    FurnaceState.Melting => _options.MeltingGasFlow,
                    FurnaceState.Holding => _options.MeltingGasFlow / 3,
                    _ => 0.0,
                };
                f.GasFlow.SetValue(new Variant(flow));
                if (flow > 0)
                    f.GasTotal.SetValue(new Variant((double)f.GasTotal.Value.Value.Value! + flow * hours));
                var temp = (double)f.BathTemp.Value.Value.Value!;
                var target = state is FurnaceState.Melting or FurnaceState.Holding ? 740.0 : 300.0;
                f.BathTemp.SetValue(new Variant(Math.Round(temp + (target - temp) * Math.Min(1, hours * 2), 3)));
            }
        }
    }

    private static void Enter(Furnace f, FurnaceState state)
    {
        f.InPhase = TimeSpan.Zero;
        if (state == FurnaceState.Charging)
            f.HeatNo.SetValue(new Variant((uint)f.HeatNo.Value.Value.Value! + 1));
        f.State.SetValue(new Variant((int)state));
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_clock is not null)
            await _clock;
        await Server.DisposeAsync();
    }

    private sealed record Furnace(UaVariableNode State, UaVariableNode HeatNo, UaVariableNode GasTotal, UaVariableNode GasFlow, UaVariableNode BathTemp, UaVariableNode HeelMass)
    {
        public TimeSpan InPhase { get; set; }
    }
}
