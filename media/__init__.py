"""Media: a no-transcoding SFU on aiortc that obeys the simulation's audience.

Public face: :class:`media.sfu.Sfu` (read its docstring for the API and the
signalling payloads).  Inside, mediasoup's vocabulary: a
:class:`~media.router.Router` per room, a :class:`~media.seat_connection.SeatConnection`
(one RTCPeerConnection) per seat, a :class:`~media.producer.Producer` per
published track and a :class:`~media.consumer.Consumer` per subscriber copy.
Everything that touches aiortc's private parts is in
:mod:`media.aiortc_internals`.
"""
