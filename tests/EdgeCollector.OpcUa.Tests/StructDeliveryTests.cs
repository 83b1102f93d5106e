using System.Collections.Concurrent;
using EdgeCollector.OpcUa.Channel;
using EdgeCollector.OpcUa.Client;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;
using EdgeCollector.OpcUa.Server;
using EdgeCollector.OpcUa.Tests.Infrastructure;

namespace EdgeCollector.OpcUa.Tests;

/// <summary>
/// The allocation-free subscription path (<see cref="UaValueHandler"/>) and the refusal of malformed Publish
/// responses, our client against our server with variables of several types on 127.0.0.1.
/// </summary>
public sealed class StructDeliveryTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private readonly UaAddressSpace _space = new("urn:test:struct-delivery");
    private UaServer _server = null!;
    private UaVariableNode _double = null!;
    private UaVariableNode _int = null!;
    private UaVariableNode _bool = null!;
    private UaVariableNode _text = null!;
    private UaVariableNode _array = null!;

    public async Task InitializeAsync()
    {
        var ns = _space.RegisterNamespace("urn:test:values");
        UaVariableNode Add(string name, Variant initial, uint dataType) =>
            _space.AddVariable(new NodeId(ns, name), new QualifiedName(ns, name), WellKnownNodes.ObjectsFolder, initial, new NodeId(0, dataType));
        _double = Add("double", new Variant(1.5), 11);
        _int = Add("int", new Variant(7), 6);
        _bool = Add("bool", new Variant(false), 1);
        _text = Add("text", new Variant("initial"), 12);
        _array = Add("array", new Variant(new[] { 1.0, 2.0 }), 11);
        _server = new UaServer(_space);
        await _server.StartAsync();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private sealed record Seen(uint Handle, BuiltInType Type, double? Number, Variant Value, StatusCode Status, DateTime? Source, bool AfterGap);

    [Fact]
    public async Task Struct_handler_gets_every_type_with_handles_by_position()
    {
        await using var client = await UaClient.ConnectAsync(new UaClientOptions { EndpointUrl = _server.EndpointUrl });
        var seen = new ConcurrentQueue<Seen>();
        var throwOnce = 1;
        var subscription = await client.SubscribeAsync(
            new UaSubscriptionOptions { PublishingInterval = TimeSpan.FromMilliseconds(50) },
            new[] { _double, _int, _bool, _text, _array }.Select(v => new UaMonitoredItemRequest { NodeId = v.NodeId }).ToArray(),
            (UaMonitoredItem item, in UaValue value, bool afterGap) =>
            {
                seen.Enqueue(new Seen(item.ClientHandle, value.Type, value.AsDouble(), value.Variant, value.Status, value.SourceTimestamp, afterGap));
                if (item.ClientHandle == 2 && Interlocked.Exchange(ref throwOnce, 0) == 1)
                    throw new InvalidOperationException("consumer bug");
            });
        Assert.Equal([1u, 2u, 3u, 4u, 5u], subscription.Items.Select(i => i.ClientHandle).ToArray());
        Assert.Equal(_text.NodeId, subscription.Items.ElementAt(3).Request.NodeId);

        // Initial values: one per item, whatever the callback did with the one before.
        await Eventually.TrueAsync(() => seen.Select(s => s.Handle).Distinct().Count() == 5, Wait);
        var initial = seen.ToArray();
        Assert.Equal(1.5, initial.Single(s => s.Handle == 1).Number);
        Assert.Equal(BuiltInType.Int32, initial.Single(s => s.Handle == 2).Type);
        Assert.Equal(7.0, initial.Single(s => s.Handle == 2).Number);
        Assert.Equal(new Variant(false), initial.Single(s => s.Handle == 3).Value);
        Assert.Equal(new Variant("initial"), initial.Single(s => s.Handle == 4).Value);
        Assert.Null(initial.Single(s => s.Handle == 4).Number);
        Assert.Equal(new Variant(new[] { 1.0, 2.0 }), initial.Single(s => s.Handle == 5).Value);
        Assert.All(initial, s => Assert.True(s.Status.IsGood));
        Assert.All(initial, s => Assert.NotNull(s.Source));
        Assert.Equal(1, subscription.CallbackErrorCount);

        var at = new DateTime(2026, 11, 21, 9, 30, 0, DateTimeKind.Utc);
        _double.SetValue(new Variant(-2.25), StatusCodes.UncertainSubNormal, at);
        _int.SetValue(new Variant(-9));
        _bool.SetValue(new Variant(true));
        _text.SetValue(new Variant("changed"));
        await Eventually.TrueAsync(() => seen.Count(s => s.Handle == 4) >= 2 && seen.Count(s => s.Handle == 1) >= 2, Wait);
        var d = seen.Last(s => s.Handle == 1);
        Assert.Equal(-2.25, d.Number);
        Assert.Equal(StatusCodes.UncertainSubNormal, d.Status);
        Assert.Equal(at, d.Source);
        await Eventually.TrueAsync(() => seen.Any(s => s.Handle == 2 && s.Number == -9) && seen.Any(s => s.Handle == 3 && s.Number == 1), Wait);
        Assert.Equal(new Variant("changed"), seen.Last(s => s.Handle == 4).Value);
        Assert.All(seen, s => Assert.False(s.AfterGap));
        Assert.Equal(0, subscription.UnknownHandleCount);
        Assert.Equal(0, client.RejectedNotificationCount);
    }

    [Fact]
    public async Task Malformed_publish_response_is_refused_counted_and_flagged_as_a_gap()
    {
        // The client refuses strings over 200 bytes: a notification carrying a longer one is undecodable for it
        // (BadEncodingLimitsExceeded), as a corrupted notification would be. Everything else keeps flowing.
        var limits = new UaChannelLimits { Decoding = UaDecodingLimits.Default with { MaxStringLength = 200 } };
        await using var client = await UaClient.ConnectAsync(new UaClientOptions
        {
            EndpointUrl = _server.EndpointUrl,
            Channel = new UaClientChannelOptions { Limits = limits },
        });
        var rejected = new ConcurrentQueue<UaDecodingException>();
        client.NotificationRejected += (_, ex) => rejected.Enqueue(ex);
        var seen = new ConcurrentQueue<Seen>();
        var gaps = new ConcurrentQueue<string>();
        var subscription = await client.SubscribeAsync(
            new UaSubscriptionOptions { PublishingInterval = TimeSpan.FromMilliseconds(50) },
            [new UaMonitoredItemRequest { NodeId = _double.NodeId }, new UaMonitoredItemRequest { NodeId = _text.NodeId }],
            (UaMonitoredItem item, in UaValue value, bool afterGap) =>
                seen.Enqueue(new Seen(item.ClientHandle, value.Type, value.AsDouble(), value.Variant, value.Status, value.SourceTimestamp, afterGap)));
        subscription.Gap += (_, reason) => gaps.Enqueue(reason);
        await Eventually.TrueAsync(() => seen.Count >= 2, Wait);

        _text.SetValue(new Variant(new string('x', 1000)));
        await Eventually.TrueAsync(() => client.RejectedNotificationCount >= 1, Wait);
        Assert.Contains("String length 1000", client.LastRejection);
        Assert.Contains(rejected, ex => ex.Status == StatusCodes.BadEncodingLimitsExceeded);

        // The next message (data or keep-alive) shows the skipped sequence number; Republish brings the same bytes,
        // refused again: the gap is flagged and the next value of every item says so.
        _double.SetValue(new Variant(3.0));
        await Eventually.TrueAsync(() => !gaps.IsEmpty, Wait);
        Assert.Contains("Republish failed", gaps.First());
        Assert.True(client.RejectedNotificationCount >= 2, $"{client.RejectedNotificationCount} rejections");
        _double.SetValue(new Variant(4.0));
        _text.SetValue(new Variant("short again"));
        await Eventually.TrueAsync(() => seen.Any(s => s.Handle == 1 && s.Number == 4.0) && seen.Any(s => s.Handle == 2 && s.Value == new Variant("short again")), Wait);
        // 3.0 or 4.0, whichever came first after the gap was flagged (a keep-alive may have shown it before 3.0).
        Assert.Equal(1, seen.Count(s => s.Handle == 1 && s.Number is 3.0 or 4.0 && s.AfterGap));
        Assert.True(seen.Single(s => s.Handle == 2 && s.Value == new Variant("short again")).AfterGap);
        Assert.DoesNotContain(seen, s => s.Value.Value is string { Length: 1000 });
        Assert.True(client.IsConnected);
        Assert.Equal(0, client.ReconnectCount);
        Assert.Equal(1, subscription.GapCount);
    }
}
