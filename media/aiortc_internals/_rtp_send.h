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

/* A packet's sequence number, timestamp and marker from args[0..2], as both the
 * writer and the history take them; 0, or -1 with an exception set. */
static inline int
header_fields(PyObject *const *args, uint16_t *seq, uint32_t *ts, int *marker)
{
    unsigned long sequence_number = PyLong_AsUnsignedLong(args[0]);
    if (sequence_number == (unsigned long)-1 && PyErr_Occurred())
        return -1;
    unsigned long timestamp = PyLong_AsUnsignedLong(args[1]);
    if (timestamp == (unsigned long)-1 && PyErr_Occurred())
        return -1;
    long flag = PyLong_AsLong(args[2]);
    if (flag == -1 && PyErr_Occurred())
        return -1;
    if (sequence_number > 0xFFFF || timestamp > 0xFFFFFFFFul) {
        PyErr_SetString(PyExc_OverflowError, "sequence number or timestamp out of range");
        return -1;
    }
    *seq = (uint16_t)sequence_number;
    *ts = (uint32_t)timestamp;
    *marker = flag != 0;
    return 0;
}

/* File one sent packet (borrowing payload and level); 0, or -1 with an exception. */
int sent_history_file(SentHistory *self, uint16_t sequence_number, uint32_t timestamp,
                      int marker, PyObject *payload, uint32_t abs_send_time, PyObject *level);

#endif
