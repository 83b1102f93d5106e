using EdgeCollector.OpcUa.Channel;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;

namespace EdgeCollector.OpcUa.Server;

/// <summary>A session on the server (OPC 10000-4 §5.6).</summary>
internal sealed class UaServerSession
{
    private readonly Queue<PendingPublish> _publishQueue = new();

    public UaServerSession(NodeId sessionId, NodeId authenticationToken, TimeSpan timeout, UaServerChannel channel)
    {
        SessionId = sessionId;
        AuthenticationToken = authenticationToken;
        Timeout = timeout;
        Channel = channel;
        Touch();
    }

    public object Gate { get; } = new();

    public NodeId SessionId { get; }

    public NodeId AuthenticationToken { get; }

    public TimeSpan Timeout { get; }

    public UaServerChannel Channel { get; set; }

    public bool Activated { get; set; }

    /// <summary>The last nonce sent (CreateSession / ActivateSession); the client signs it and appends it to encrypted passwords.</summary>
    public byte[] ServerNonce { get; set; } = [];

    /// <summary>The client certificate given in CreateSession (secure channels only).</summary>
    public byte[]? ClientCertificate { get; set; }

    /// <summary>The SecurityPolicyUri of the channel the session was created on; re-activation must use the same.</summary>
    public string PolicyUri { get; set; } = UaUris.SecurityPolicyNone;

    /// <summary>The user name, or null for anonymous; subscriptions transfer only between equal identities.</summary>
    public string? UserName { get; set; }

    public DateTime LastRequestAt { get; private set; }

    public Dictionary<string, ReferenceDescription[]> ContinuationPoints { get; } = new(StringComparer.Ordinal);

    public void Touch() => LastRequestAt = DateTime.UtcNow;

    public int PendingPublishCount
    {
        get
        {
            lock (Gate)
                return _publishQueue.Count;
        }
    }

    /// <summary>Parks a Publish request (call with <see cref="Gate"/> held).</summary>
    public void EnqueuePublish(PendingPublish publish) => _publishQueue.Enqueue(publish);

    /// <summary>Takes the oldest Publish request whose channel is still open (call with <see cref="Gate"/> held).</summary>
    public bool TryDequeuePublish(out PendingPublish publish)
    {
        while (_publishQueue.TryDequeue(out publish!))
        {
            if (publish.Channel.State == UaChannelState.Open)
                return true;
        }

        return false;
    }

    /// <summary>Removes all parked Publish requests (call with <see cref="Gate"/> held).</summary>
    public List<PendingPublish> DrainPublishes()
    {
        var all = _publishQueue.ToList();
        _publishQueue.Clear();
        return all;
    }
}

/// <summary>A Publish request waiting for a notification or keep-alive.</summary>
internal sealed record PendingPublish(UaServerChannel Channel, uint RequestId, PublishRequest Request, StatusCode[] AckResults, DateTime ReceivedAt);
