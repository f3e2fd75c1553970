// Simulcast layer shaping for the page's camera: the sizes and bitrate caps of
// the encodings the browser sends on the publish video m-section, one per RID
// the server's offer asks for.

/** Simulcast layers, lowest first: scale factors from the camera's picture, bitrate caps. */
const LAYERS = [
  { scale: 4, maxBitrate: 80_000 },
  { scale: 2, maxBitrate: 150_000 },
  { scale: 1, maxBitrate: 700_000 },
];

// The server's offer asks for simulcast (a=rid … recv, lowest layer first): the
// browser then sends one encoding per RID. Each gets its size and bitrate here,
// lowest first, and keeps its resolution under load (frames drop instead), so
// a subscriber's layer is the size it was chosen for. Chromium sends only as
// many layers as the picture is large enough for (two from 640×360, three from
// 960×540 up, one below 480×270) and drops the last encodings: the first ones
// get the top sizes and the rest are switched off.
export async function shapeLayers(sender, track) {
  if (!sender.getParameters || !sender.setParameters) return;
  const params = sender.getParameters();
  const encodings = params.encodings || [];
  if (encodings.length < 2) return;
  const height = (track.getSettings && track.getSettings().height) || 360;
  const wanted = Math.min(encodings.length, LAYERS.length, height >= 540 ? 3 : height >= 270 ? 2 : 1);
  const first = LAYERS.length - wanted;
  encodings.forEach((encoding, index) => {
    const layer = LAYERS[Math.min(LAYERS.length - 1, first + index)];
    encoding.active = index < wanted;
    encoding.scaleResolutionDownBy = layer.scale;
    encoding.maxBitrate = layer.maxBitrate;
  });
  params.degradationPreference = "maintain-resolution";
  try {
    await sender.setParameters(params);
  } catch (error) {
    console.warn("simulcast layers not shaped", error);
  }
}
