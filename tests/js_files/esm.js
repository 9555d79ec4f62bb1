export function esForward(x, w) { return x.length + w.length }
export const esArrow = (dout) => dout
export { esForward as default }
