//! A network behaviour giving raw streams on a chosen connection.
//!
//! libp2p-stream opens streams on an arbitrary connection to a peer and drops inbound streams
//! when its single-slot channel is full, both wrong for a benchmark that opens many
//! connections to one peer and accepts streams at full rate. Here every inbound stream of a
//! served protocol is handed straight to a server task, and an outbound stream is opened on
//! exactly the connection asked for.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::{ready, Ready};
use std::task::{Context, Poll, Waker};

use libp2p::core::transport::PortUse;
use libp2p::core::{Endpoint, InboundUpgrade, Multiaddr, OutboundUpgrade, UpgradeInfo};
use libp2p::swarm::handler::{
    ConnectionEvent, DialUpgradeError, FullyNegotiatedInbound, FullyNegotiatedOutbound,
};
use libp2p::swarm::{
    ConnectionDenied, ConnectionHandler, ConnectionHandlerEvent, ConnectionId, FromSwarm,
    NetworkBehaviour, NotifyHandler, Stream, StreamProtocol, StreamUpgradeError, SubstreamProtocol,
    THandler, THandlerInEvent, THandlerOutEvent, ToSwarm,
};
use libp2p::PeerId;
use tokio::sync::oneshot;

use crate::protocols;

pub type OpenReply = oneshot::Sender<Result<Stream, String>>;

/// A request to open an outbound stream on one connection.
#[derive(Debug)]
pub struct OpenRequest {
    protocol: StreamProtocol,
    reply: OpenReply,
}

#[derive(Default)]
pub struct Behaviour {
    to_swarm: VecDeque<ToSwarm<Infallible, OpenRequest>>,
    waker: Option<Waker>,
}

impl Behaviour {
    /// Opens a `protocol` stream on `connection`. If the connection is gone the swarm drops
    /// the request, and with it `reply`, which the waiting side sees as a closed channel.
    pub fn open_stream(
        &mut self,
        peer_id: PeerId,
        connection: ConnectionId,
        protocol: StreamProtocol,
        reply: OpenReply,
    ) {
        self.to_swarm.push_back(ToSwarm::NotifyHandler {
            peer_id,
            handler: NotifyHandler::One(connection),
            event: OpenRequest { protocol, reply },
        });
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

impl NetworkBehaviour for Behaviour {
    type ConnectionHandler = Handler;
    type ToSwarm = Infallible;

    fn handle_established_inbound_connection(
        &mut self,
        _: ConnectionId,
        _: PeerId,
        _: &Multiaddr,
        _: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(Handler::default())
    }

    fn handle_established_outbound_connection(
        &mut self,
        _: ConnectionId,
        _: PeerId,
        _: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(Handler::default())
    }

    fn on_swarm_event(&mut self, _: FromSwarm) {}

    fn on_connection_handler_event(
        &mut self,
        _: PeerId,
        _: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        match self.to_swarm.pop_front() {
            Some(event) => Poll::Ready(event),
            None => {
                self.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// One connection's handler: serves inbound streams, opens the requested outbound ones.
#[derive(Default)]
pub struct Handler {
    pending_opens: VecDeque<OpenRequest>,
}

impl ConnectionHandler for Handler {
    type FromBehaviour = OpenRequest;
    type ToBehaviour = Infallible;
    type InboundProtocol = Protocols;
    type OutboundProtocol = Protocols;
    type InboundOpenInfo = ();
    type OutboundOpenInfo = OpenReply;

    fn listen_protocol(&self) -> SubstreamProtocol<Protocols> {
        SubstreamProtocol::new(Protocols(protocols::served()), ())
    }

    /// Connections live until one side closes them: held connections must not time out.
    fn connection_keep_alive(&self) -> bool {
        true
    }

    fn poll(
        &mut self,
        _: &mut Context<'_>,
    ) -> Poll<ConnectionHandlerEvent<Protocols, OpenReply, Infallible>> {
        // The connection task polls the handler again after every on_behaviour_event, so no
        // waker is needed for the queue.
        match self.pending_opens.pop_front() {
            Some(request) => Poll::Ready(ConnectionHandlerEvent::OutboundSubstreamRequest {
                protocol: SubstreamProtocol::new(Protocols(vec![request.protocol]), request.reply),
            }),
            None => Poll::Pending,
        }
    }

    fn on_behaviour_event(&mut self, request: OpenRequest) {
        self.pending_opens.push_back(request);
    }

    fn on_connection_event(&mut self, event: ConnectionEvent<Protocols, Protocols, (), OpenReply>) {
        match event {
            ConnectionEvent::FullyNegotiatedInbound(FullyNegotiatedInbound {
                protocol: (stream, protocol),
                ..
            }) => {
                tokio::spawn(protocols::serve(protocol, stream));
            }
            ConnectionEvent::FullyNegotiatedOutbound(FullyNegotiatedOutbound {
                protocol: (stream, _),
                info: reply,
            }) => {
                let _ = reply.send(Ok(stream));
            }
            ConnectionEvent::DialUpgradeError(DialUpgradeError { info: reply, error }) => {
                let message = match error {
                    StreamUpgradeError::Timeout => "stream negotiation timed out".to_string(),
                    StreamUpgradeError::NegotiationFailed => {
                        "the remote does not support the protocol".to_string()
                    }
                    StreamUpgradeError::Io(error) => format!("stream negotiation failed: {error}"),
                    StreamUpgradeError::Apply(never) => match never {},
                };
                let _ = reply.send(Err(message));
            }
            _ => {}
        }
    }
}

/// A multistream-select upgrade over a list of protocols that yields the raw stream and the
/// protocol agreed on.
pub struct Protocols(Vec<StreamProtocol>);

impl UpgradeInfo for Protocols {
    type Info = StreamProtocol;
    type InfoIter = std::vec::IntoIter<StreamProtocol>;

    fn protocol_info(&self) -> Self::InfoIter {
        self.0.clone().into_iter()
    }
}

impl InboundUpgrade<Stream> for Protocols {
    type Output = (Stream, StreamProtocol);
    type Error = Infallible;
    type Future = Ready<Result<Self::Output, Infallible>>;

    fn upgrade_inbound(self, stream: Stream, protocol: StreamProtocol) -> Self::Future {
        ready(Ok((stream, protocol)))
    }
}

impl OutboundUpgrade<Stream> for Protocols {
    type Output = (Stream, StreamProtocol);
    type Error = Infallible;
    type Future = Ready<Result<Self::Output, Infallible>>;

    fn upgrade_outbound(self, stream: Stream, protocol: StreamProtocol) -> Self::Future {
        ready(Ok((stream, protocol)))
    }
}
