/**
 * A port the server cannot open, named by the setting that chose it, so the
 * message says what to change instead of a stack trace.
 */
export class PortError extends Error {
  constructor (readonly setting: string, readonly port: number, readonly host: string, readonly code: string | undefined) {
    super(describePortError(setting, port, host, code))
    this.name = 'PortError'
  }
}

export function describePortError (setting: string, port: number, host: string, code: string | undefined): string {
  const hostSetting = 'HOST'
  switch (code) {
    case 'EADDRINUSE':
      return `ポート ${port}（${host}）は他のプロセスが使っています。${setting} を別の番号に変えるか、そのプロセスを止めてください / port ${port} on ${host} is in use — change ${setting} (or stop the process using it)`
    case 'EACCES':
      return `ポート ${port} を開く権限がありません（1024 未満は特権が必要）。${setting} を 1024 以上にしてください / no permission to open port ${port} (below 1024 needs privileges) — change ${setting} to 1024 or above`
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return `${host} はこのマシンのアドレスではありません。${hostSetting} を 0.0.0.0（すべて）か 127.0.0.1 にしてください / ${host} is not an address of this machine — change ${hostSetting} (0.0.0.0 = all interfaces, 127.0.0.1 = this machine only)`
    default:
      return `ポート ${port}（${host}）を開けません (${String(code)})。${setting} と ${hostSetting} を確認してください / cannot open port ${port} on ${host} (${String(code)}) — check ${setting} and ${hostSetting}`
  }
}
