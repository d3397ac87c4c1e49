/** Picks the WebRTC implementation: the injected one, the browser's globals, or @roamhq/wrtc in Node. */
import type { RtcImplementation } from './options.js';

export async function resolveRtc(injected: RtcImplementation | undefined): Promise<RtcImplementation> {
  if (injected !== undefined) return injected;
  const g = globalThis as Partial<RtcImplementation>;
  if (typeof g.RTCPeerConnection === 'function') {
    return { RTCPeerConnection: g.RTCPeerConnection, RTCSessionDescription: g.RTCSessionDescription, RTCIceCandidate: g.RTCIceCandidate };
  }
  const wrtc = (await import('@roamhq/wrtc')) as { default?: RtcImplementation } & RtcImplementation;
  return wrtc.default ?? wrtc;
}
