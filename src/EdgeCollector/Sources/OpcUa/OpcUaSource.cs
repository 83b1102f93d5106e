using System.Collections.Concurrent;
using System.Threading.Channels;
using EdgeCollector.Configuration;
using EdgeCollector.Core.Configuration;
using EdgeCollector.Core.Engine;
using EdgeCollector.OpcUa.Client;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;
using EdgeCollector.OpcUa.Security;
using StatusCodes = EdgeCollector.OpcUa.Encoding.StatusCodes;
using EdgeCollector.Pipeline;
using Microsoft.Extensions.Logging;

namespace EdgeCollector.Sources.OpcUa;

/// <summary>
/// The <c>OpcUa</c> source plugin (contracts.md §1): one session per source, one subscription with a
/// monitored item per tag (NodeIds resolved at run time, <c>nsu=</c> through the server's namespace
/// array), source timestamps where the server gives them and OPC UA status mapped to quality.
/// product.md "Unchanged values are still readings": while the subscription is live, every tag's last
/// value is re-reported each publishing interval (same value, current time), so a flat totaliser
/// never holds windows back; a lost server reports nothing.
/// Security (issue 6): with Mode Sign / SignAndEncrypt the source uses the application certificate in
/// <paramref name="pkiDir"/> (created on first start) and connects only to trusted servers. Certificate, policy and
/// user failures need an operator, so they are logged once as errors with their status code name and retried slowly.
/// </summary>
public sealed class OpcUaSource(SourceConfig config, ILogger log, TimeProvider? time = null, string? pkiDir = null) : IInputSource, ISourceDiagnostics
{
    /// <summary>First retry delay after a failure an operator must fix (untrusted or invalid certificate, refused user, policy).</summary>
    public static readonly TimeSpan OperatorFixBackoff = TimeSpan.FromSeconds(30);

    private UaClientSecurity? _security;
    private bool _warnedNoPassword;

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ConcurrentDictionary<string, (double Value, SampleQuality Quality, long ReportedAt)> _last = new(StringComparer.Ordinal);
    private long _lastSign = long.MinValue;

    public string Name => config.Name;

    public long Dropped { get; private set; }
    public long NotNumeric { get; private set; }
    public bool Connected { get; private set; }

    private long _connects, _failures;
    private int _outageFailures;

    public long Connects => Interlocked.Read(ref _connects);

    public long Errors => Dropped + NotNumeric + Interlocked.Read(ref _failures);

    public async Task RunAsync(ChannelWriter<SourceItem> writer, long? resumeAfter, CancellationToken cancellationToken)
    {
        var backoff = TimeSpan.FromSeconds(1);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await RunSessionAsync(writer, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Connected = false;
                Interlocked.Increment(ref _failures);
                if (ex is UaException ua && NeedsOperator(ua.Status))
                {
                    // No retry storm: these do not heal by themselves (OPC 10000-4 status code named in the message).
                    backoff = TimeSpan.FromTicks(Math.Max(backoff.Ticks, OperatorFixBackoff.Ticks));
                    log.LogError("{Source}: {Endpoint}: {Status}: {Message}; retrying in {Delay}", Name, config.Endpoint, ua.Status.Name, ex.Message, backoff);
                }
                else
                {
                    log.LogWarning("{Source}: {Endpoint}: {Message}; retrying in {Delay}", Name, config.Endpoint, ex.Message, backoff);
                }

                await Task.Delay(backoff, _time, cancellationToken);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, Math.Max(OperatorFixBackoff.Ticks * 4, TimeSpan.FromSeconds(30).Ticks)));
            }
        }
    }

    private async Task RunSessionAsync(ChannelWriter<SourceItem> writer, CancellationToken ct)
    {
        var password = config.UserName is null ? null : SecretResolver.Resolve(config.PasswordEnv);
        if (config.UserName is not null && password is null && !_warnedNoPassword)
        {
            // Only the variable's name is logged, never a value.
            _warnedNoPassword = true;
            log.LogError("{Source}: the environment variable {PasswordEnv} named by User.PasswordEnv is not set; connecting as {User} with an empty password", Name, config.PasswordEnv, config.UserName);
        }

        var user = config.UserName is { } name ? new UaUserIdentity(name, password ?? "") : null;
        var security = Security();
        await using var client = await UaClient.ConnectAsync(new UaClientOptions
        {
            EndpointUrl = config.Endpoint!,
            User = user,
            Security = security,
            ApplicationUri = security is null ? new UaClientOptions { EndpointUrl = "" }.ApplicationUri : ApplicationUri,
        }, ct);
        Connected = true;
        Interlocked.Increment(ref _connects);
        client.ReconnectFailed += (_, ex, delay) =>
        {
            Interlocked.Increment(ref _failures);
            if (ex is UaException ua && NeedsOperator(ua.Status))
                log.LogError("{Source}: {Endpoint}: reconnect failed: {Status}: {Message}; retrying in {Delay}", Name, config.Endpoint, ua.Status.Name, ex.Message, delay);
            else if (Interlocked.Increment(ref _outageFailures) == 1)
                log.LogWarning("{Source}: {Endpoint}: reconnect failed: {Message}; retrying every {Delay} (further failures of this outage at Debug)", Name, config.Endpoint, ex.Message, delay);
            else
                log.LogDebug("{Source}: {Endpoint}: reconnect failed: {Message}; retrying in {Delay}", Name, config.Endpoint, ex.Message, delay);
        };
        client.ConnectionChanged += (_, state) =>
        {
            Connected = state != UaConnectionState.Reconnecting;
            if (Connected)
            {
                Interlocked.Increment(ref _connects);
            }

            int failed = Connected ? Interlocked.Exchange(ref _outageFailures, 0) : 0;
            log.LogInformation("{Source}: {State}{After}", Name, state, failed > 0 ? $" after {failed} failed attempt(s)" : "");
        };
        var byNode = new Dictionary<NodeId, string>();
        var items = new List<UaMonitoredItemRequest>();
        foreach (var tag in config.Tags)
        {
            var id = await client.ResolveNodeIdAsync(tag.NodeId!, ct);
            byNode[id] = tag.Tag;
            items.Add(new UaMonitoredItemRequest { NodeId = id, SamplingInterval = TimeSpan.FromMilliseconds(config.PublishingIntervalMs) });
        }

        // Notifications arrive on the client's thread: hand them over without blocking it.
        var inbox = Channel.CreateBounded<TagRecord>(new BoundedChannelOptions(100_000) { SingleReader = true });
        var interval = TimeSpan.FromMilliseconds(config.PublishingIntervalMs);
        var subscription = await client.SubscribeAsync(new UaSubscriptionOptions { PublishingInterval = interval }, items, change =>
        {
            if (!byNode.TryGetValue(change.NodeId, out var tag))
            {
                return;
            }

            if (change.AfterGap)
            {
                log.LogInformation("{Source}: {Tag}: first value after a gap", Name, tag);
            }

            var record = ToRecord(tag, change.Value);
            Sign();
            if (!inbox.Writer.TryWrite(record))
            {
                Dropped++;
                log.LogError("{Source}: {Tag}: reading dropped, the engine is {Count} readings behind", Name, tag, 100_000);
            }
        }, ct);
        subscription.KeepAlive += (_, _) => Sign();

        var pump = Task.Run(async () =>
        {
            await foreach (var record in inbox.Reader.ReadAllAsync(ct))
            {
                await writer.WriteAsync(new SourceItem(record, Name, -1), ct);
            }
        }, ct);

        using var ticker = new PeriodicTimer(interval, _time);
        while (await ticker.WaitForNextTickAsync(ct))
        {
            // Live: a notification or keep-alive within two keep-alive periods.
            long now = _time.GetUtcNow().UtcTicks;
            var keepAlive = interval * Math.Max(1, subscription.RevisedMaxKeepAliveCount);
            if (!Connected || now - Interlocked.Read(ref _lastSign) > (keepAlive * 2).Ticks)
            {
                continue;
            }

            foreach (var (tag, last) in _last)
            {
                if (now - last.ReportedAt >= interval.Ticks && last.Quality != SampleQuality.Bad)
                {
                    _last[tag] = last with { ReportedAt = now };
                    inbox.Writer.TryWrite(new TagRecord(now, tag, last.Value, last.Quality));
                }
            }

            if (pump.IsCompleted)
            {
                await pump;
            }
        }
    }

    /// <summary>The ApplicationUri of this collector's certificate: one per machine.</summary>
    public static string ApplicationUri => $"urn:{System.Net.Dns.GetHostName()}:EdgeCollector";

    /// <summary>Status codes that an operator has to fix (certificates, trust, policy, user).</summary>
    public static bool NeedsOperator(StatusCode status) => UaClient.IsSecurityFailure(status);

    /// <summary>The client security of this source (null for Mode None); the PKI folder and certificate are set up once.</summary>
    private UaClientSecurity? Security()
    {
        if (config.SecurityMode == SecurityMode.None)
            return null;
        if (_security is not null)
            return _security;
        var policy = UaSecurityPolicy.Find(config.SecurityPolicy) ?? throw new UaException(StatusCodes.BadSecurityPolicyRejected, $"Mode {config.SecurityMode} needs a security policy");
        var folder = pkiDir ?? config.PkiDir ?? Path.Combine("data", "pki");
        var store = new UaCertificateStore(folder, config.AutoAcceptUntrusted, line => log.LogWarning("{Source}: {Message}", Name, line));
        if (config.AutoAcceptUntrusted)
            log.LogWarning("{Source}: Security.AutoAcceptUntrusted is on: every unknown server certificate is trusted. Labs only; never in a plant.", Name);
        var certificate = store.LoadOrCreateOwn(ApplicationUri, "EdgeCollector");
        log.LogInformation("{Source}: {Policy}/{Mode}, application certificate {Thumbprint}, PKI folder {Folder}", Name, policy.Name, config.SecurityMode, certificate.Thumbprint, store.Root);
        return _security = new UaClientSecurity
        {
            Policy = policy,
            Mode = config.SecurityMode == SecurityMode.Sign ? MessageSecurityMode.Sign : MessageSecurityMode.SignAndEncrypt,
            Certificate = certificate,
            Store = store,
        };
    }

    private void Sign() => Interlocked.Exchange(ref _lastSign, _time.GetUtcNow().UtcTicks);

    private TagRecord ToRecord(string tag, DataValue value)
    {
        long now = _time.GetUtcNow().UtcTicks;
        long ticks = value.SourceTimestamp is DateTime source ? DateTime.SpecifyKind(source, DateTimeKind.Utc).Ticks : now;
        var quality = value.Status.IsBad ? SampleQuality.Bad : value.Status.IsUncertain ? SampleQuality.Uncertain : SampleQuality.Good;
        double? number = value.Value.Value is bool b ? (b ? 1 : 0) : value.Value.AsDouble();
        if (number is not double v || !double.IsFinite(v))
        {
            if (quality != SampleQuality.Bad)
            {
                NotNumeric++;
                log.LogWarning("{Source}: {Tag}: value {Value} is not a number: Bad", Name, tag, value.Value.Value);
            }

            _last.TryRemove(tag, out _);
            return new TagRecord(ticks, tag, 0, SampleQuality.Bad);
        }

        _last[tag] = (v, quality, now);
        return new TagRecord(ticks, tag, v, quality);
    }
}
