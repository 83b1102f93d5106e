using EdgeCollector.OpcUa.Client;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;
using EdgeCollector.OpcUa.Tests.Infrastructure;

namespace EdgeCollector.OpcUa.Tests;

/// <summary>Our client against a real node-opcua server.</summary>
[Trait("Category", "Integration")]
public sealed class NodeOpcUaServerTests : IClassFixture<NodeOpcUaServerFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private readonly NodeOpcUaServerFixture _server;

    public NodeOpcUaServerTests(NodeOpcUaServerFixture server)
    {
        _server = server;
    }

    private Task<UaClient> ConnectAsync() =>
        UaClient.ConnectAsync(new UaClientOptions { EndpointUrl = _server.EndpointUrl });

    [Fact]
    public async Task Connects_and_resolves_the_plant_namespace_by_uri()
    {
        await using var client = await ConnectAsync();
        Assert.Equal(UaUris.OpcUaNamespace, client.NamespaceArray[0]);
        var id = await client.ResolveNodeIdAsync($"nsu={NodeOpcUaServerFixture.PlantNamespace};s=F1.GasTotal");
        Assert.Equal(2, id.NamespaceIndex);
        Assert.Equal("F1.GasTotal", id.Identifier);
        await client.CloseAsync();
    }

    [Fact]
    public async Task Browses_objects_and_the_plant_folder()
    {
        await using var client = await ConnectAsync();
        var objects = await client.BrowseAsync(WellKnownNodes.ObjectsFolder);
        Assert.Contains(objects, r => r.BrowseName.Name == "Server");
        var plant = Assert.Single(objects, r => r.BrowseName.Name == "Plant");
        var plantId = plant.NodeId.Resolve(client.NamespaceArray);
        var children = await client.BrowseAsync(plantId, maxReferencesPerNode: 2);
        var names = children.Select(c => c.BrowseName.Name).ToHashSet();
        Assert.Superset(new HashSet<string?> { "GasTotal", "Counter", "State", "Setpoint", "Name", "Level" }, names);
        Assert.All(children.Where(c => c.BrowseName.Name == "GasTotal"), c => Assert.Equal(NodeClass.Variable, c.NodeClass));
    }

    [Fact]
    public async Task Reads_string_numeric_nsu_and_siemens_quoted_node_ids()
    {
        await using var client = await ConnectAsync();
        var ids = new List<NodeId>();
        foreach (var text in new[]
                 {
                     "ns=2;s=F1.GasTotal", "ns=2;i=1001", $"nsu={NodeOpcUaServerFixture.PlantNamespace};s=F1.State",
                     "ns=2;s=\"DB_F1\".\"GasTotal\"", "ns=2;s=F1.Name", "ns=2;s=DoesNotExist",
                 })
        {
            ids.Add(await client.ResolveNodeIdAsync(text));
        }

        var values = await client.ReadValuesAsync(ids);
        Assert.True(values[0].Status.IsGood, values[0].Status.ToString());
        Assert.IsType<double>(values[0].Value.Value);
        Assert.True((double)values[0].Value.Value! >= 1000.0);
        Assert.NotNull(values[0].SourceTimestamp);
        Assert.IsType<uint>(values[1].Value.Value);
        Assert.IsType<int>(values[2].Value.Value);
        Assert.Equal(42.5, values[3].Value.Value);
        Assert.Equal(BuiltInType.String, values[4].Value.Type);
        Assert.Equal(StatusCodes.BadNodeIdUnknown, values[5].Status);
    }

    [Fact]
    public async Task Writes_and_reads_back()
    {
        await using var client = await ConnectAsync();
        var state = await client.ResolveNodeIdAsync("ns=2;s=F1.State");
        var name = await client.ResolveNodeIdAsync("ns=2;s=F1.Name");
        Assert.Equal(StatusCodes.Good, await client.WriteValueAsync(state, new Variant(3)));
        Assert.Equal(StatusCodes.Good, await client.WriteValueAsync(name, new Variant("Furnace 1 – Ünïcode")));
        var values = await client.ReadValuesAsync([state, name]);
        Assert.Equal(3, values[0].Value.Value);
        Assert.Equal("Furnace 1 – Ünïcode", values[1].Value.Value);
        var wrongType = await client.WriteValueAsync(state, new Variant("not an int"));
        Assert.True(wrongType.IsBad, wrongType.ToString());
    }

    [Fact]
    public async Task Translates_a_browse_path()
    {
        await using var client = await ConnectAsync();
        var ns = (ushort)client.NamespaceArray.ToList().IndexOf(NodeOpcUaServerFixture.PlantNamespace);
        var results = await client.TranslateBrowsePathsAsync(
        [
            new BrowsePath
            {
                StartingNode = WellKnownNodes.ObjectsFolder,
                RelativePath = new RelativePath
                {
                    Elements =
                    [
                        new RelativePathElement { ReferenceTypeId = WellKnownNodes.HierarchicalReferences, IncludeSubtypes = true, TargetName = new QualifiedName(ns, "Plant") },
                        new RelativePathElement { ReferenceTypeId = WellKnownNodes.HierarchicalReferences, IncludeSubtypes = true, TargetName = new QualifiedName(ns, "GasTotal") },
                    ],
                },
            },
        ]);
        var target = Assert.Single(Assert.Single(results).Targets!);
        Assert.Equal(new NodeId(ns, "F1.GasTotal"), target.TargetId.NodeId);
    }

    [Fact]
    public async Task Subscribes_and_receives_changing_values_with_source_timestamps()
    {
        await using var client = await ConnectAsync();
        var gas = await client.ResolveNodeIdAsync($"nsu={NodeOpcUaServerFixture.PlantNamespace};s=F1.GasTotal");
        var counter = await client.ResolveNodeIdAsync("ns=2;i=1001");
        var changes = new System.Collections.Concurrent.ConcurrentQueue<UaDataChange>();
        var subscription = await client.SubscribeAsync(
            new UaSubscriptionOptions { PublishingInterval = TimeSpan.FromMilliseconds(100) },
            [new UaMonitoredItemRequest { NodeId = gas, SamplingInterval = TimeSpan.FromMilliseconds(100) }, new UaMonitoredItemRequest { NodeId = counter }],
            changes.Enqueue);
        Assert.All(subscription.Items, i => Assert.True(i.Status.IsGood, i.Status.ToString()));
        await Eventually.TrueAsync(() => changes.Count(c => c.NodeId == gas) >= 3 && changes.Any(c => c.NodeId == counter), Wait);
        var gasValues = changes.Where(c => c.NodeId == gas).Select(c => (double)c.Value.Value.Value!).ToArray();
        Assert.True(gasValues.Zip(gasValues.Skip(1)).All(p => p.Second > p.First), string.Join(",", gasValues));
        Assert.All(changes, c => Assert.NotNull(c.Value.SourceTimestamp));
        Assert.All(changes, c => Assert.True(c.Value.Status.IsGood));
        await client.DeleteSubscriptionAsync(subscription);
    }

    [Fact]
    public async Task Absolute_deadband_filters_small_changes()
    {
        await using var client = await ConnectAsync();
        var setpoint = await client.ResolveNodeIdAsync("ns=2;s=Setpoint");
        Assert.Equal(StatusCodes.Good, await client.WriteValueAsync(setpoint, new Variant(0.0)));
        var changes = new System.Collections.Concurrent.ConcurrentQueue<double>();
        await client.SubscribeAsync(
            new UaSubscriptionOptions { PublishingInterval = TimeSpan.FromMilliseconds(50) },
            [new UaMonitoredItemRequest { NodeId = setpoint, SamplingInterval = TimeSpan.FromMilliseconds(50), Deadband = DeadbandType.Absolute, DeadbandValue = 5.0 }],
            c => changes.Enqueue((double)c.Value.Value.Value!));
        await Eventually.TrueAsync(() => changes.Contains(0.0), Wait);
        foreach (var v in new[] { 1.0, 2.0, 4.0, 10.0, 12.0, 20.0 })
        {
            Assert.Equal(StatusCodes.Good, await client.WriteValueAsync(setpoint, new Variant(v)));
            await Task.Delay(200);
        }

        await Eventually.TrueAsync(() => changes.Contains(20.0), Wait);
        Assert.Equal([0.0, 10.0, 20.0], changes.ToArray());
    }

    [Fact]
    public async Task Percent_deadband_uses_the_eu_range()
    {
        await using var client = await ConnectAsync();
        var level = await client.ResolveNodeIdAsync("ns=2;s=Level");
        Assert.Equal(StatusCodes.Good, await client.WriteValueAsync(level, new Variant(0.0)));
        var changes = new System.Collections.Concurrent.ConcurrentQueue<double>();

        // EURange 0..200, 10 % = 20 units.
        var subscription = await client.SubscribeAsync(
            new UaSubscriptionOptions { PublishingInterval = TimeSpan.FromMilliseconds(50) },
            [new UaMonitoredItemRequest { NodeId = level, SamplingInterval = TimeSpan.FromMilliseconds(50), Deadband = DeadbandType.Percent, DeadbandValue = 10.0 }],
            c => changes.Enqueue((double)c.Value.Value.Value!));
        Assert.True(subscription.Items.Single().Status.IsGood, subscription.Items.Single().Status.ToString());
        await Eventually.TrueAsync(() => changes.Contains(0.0), Wait);
        foreach (var v in new[] { 10.0, 19.0, 25.0, 30.0 })
        {
            Assert.Equal(StatusCodes.Good, await client.WriteValueAsync(level, new Variant(v)));
            await Task.Delay(200);
        }

        await Eventually.TrueAsync(() => changes.Contains(25.0), Wait);
        await Task.Delay(300);
        Assert.Equal([0.0, 25.0], changes.ToArray());
    }

    [Fact]
    public async Task Keep_alives_arrive_for_a_quiet_subscription()
    {
        await using var client = await ConnectAsync();
        var siemens = await client.ResolveNodeIdAsync("ns=2;s=\"DB_F1\".\"GasTotal\"");
        var keepAlives = 0;
        var subscription = await client.SubscribeAsync(
            new UaSubscriptionOptions { PublishingInterval = TimeSpan.FromMilliseconds(100), MaxKeepAliveCount = 3 },
            [new UaMonitoredItemRequest { NodeId = siemens }],
            _ => { });
        subscription.KeepAlive += (_, _) => Interlocked.Increment(ref keepAlives);
        await Eventually.TrueAsync(() => Volatile.Read(ref keepAlives) >= 3, Wait);
    }

    [Fact]
    public async Task Username_token_over_None_is_encrypted_when_the_policy_asks_for_it()
    {
        // node-opcua's None endpoint names an encrypting SecurityPolicy for its user name token policy: the client
        // encrypts the password with the server certificate (part 2) instead of refusing; this peer knows no users,
        // so the decrypted password reaches its user check and is refused there.
        var endpoints = await UaClient.GetEndpointsAsync(_server.EndpointUrl);
        var none = Assert.Single(endpoints, e => e.SecurityMode == MessageSecurityMode.None);
        var userPolicy = none.UserIdentityTokens!.FirstOrDefault(p => p.TokenType == UserTokenType.UserName);
        Assert.NotNull(userPolicy);
        Assert.NotEqual(UaUris.SecurityPolicyNone, userPolicy.SecurityPolicyUri);
        var ex = await Assert.ThrowsAsync<UaServiceException>(() => UaClient.ConnectAsync(new UaClientOptions
        {
            EndpointUrl = _server.EndpointUrl,
            User = new UaUserIdentity("user1", "password1"),
        }));
        Assert.Equal(StatusCodes.BadUserAccessDenied, ex.Status);
    }
}
