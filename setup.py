"""The native pieces: the forwarded copy's send path in C (media/aiortc_internals/_rtp_send.c,
with the NACK history it files into, _sent_history.c), aiortc's RTP parse in C
(_rtp_parse.c), and the REMB estimate of a publisher's uplink in C (_uplink.c).

Everything else is declared in pyproject.toml.  Each extension is optional: where
it cannot be built (no compiler or Python headers) Caucus runs the same steps in Python
(media/aiortc_internals/senders.py; aiortc's RtpPacket.parse; remb.UplinkEstimator), as
it does with ``CAUCUS_RTP_SEND=python`` / ``CAUCUS_RTP_PARSE=python`` /
``CAUCUS_UPLINK_ESTIMATE=python``.  _uplink.c is built with -ffp-contract=off: no fused
multiply-add, so that its floats round as the Python's do.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "media.aiortc_internals._rtp_send",
            ["media/aiortc_internals/_rtp_send.c", "media/aiortc_internals/_sent_history.c"],
            depends=["media/aiortc_internals/_rtp_send.h"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
            optional=True,
        ),
        Extension(
            "media.aiortc_internals._rtp_parse",
            ["media/aiortc_internals/_rtp_parse.c"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
            optional=True,
        ),
        Extension(
            "media.aiortc_internals._uplink",
            ["media/aiortc_internals/_uplink.c"],
            extra_compile_args=[
                "-O2",
                "-Wall",
                "-Wextra",
                "-Wno-missing-field-initializers",
                "-ffp-contract=off",
            ],
            optional=True,
        ),
    ]
)
