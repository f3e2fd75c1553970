/* Shared by the two halves of media.aiortc_internals._rtp_send: the writer
 * (_rtp_send.c) files each packet it sends in a sender's history
 * (_sent_history.c), where a NACK finds it. */
#ifndef CAUCUS_RTP_SEND_H
#define CAUCUS_RTP_SEND_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

typedef struct {
    PyObject *payload; /* bytes; NULL: an empty slot */
    PyObject *level;   /* None or (voiced, level) */
    uint32_t timestamp, abs_send_time;
    uint16_t sequence_number;
    uint8_t marker;
} SentPacket;

typedef struct {
    double filed;
    Py_ssize_t slot;
    uint16_t sequence_number;
} Filing;

typedef struct {
    PyObject_HEAD
    Py_ssize_t size;  /* slots: a packet is filed under its sequence number % size */
    SentPacket *slots;
    Filing *order;    /* the filing order, a ring of `size`: oldest let go first */
    Py_ssize_t first, filings;
    Py_ssize_t held;  /* slots holding a packet */
    double horizon;   /* seconds a packet is kept */
    PyObject *clock;  /* NULL: CLOCK_MONOTONIC (time.monotonic's clock) */
} SentHistory;

extern PyTypeObject SentHistoryType;

/* File one sent packet (borrowing payload and level); 0, or -1 with an exception. */
int sent_history_file(SentHistory *self, uint16_t sequence_number, uint32_t timestamp,
                      int marker, PyObject *payload, uint32_t abs_send_time, PyObject *level);

#endif
