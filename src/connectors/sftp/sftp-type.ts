import type { ConnectorType } from '../connector.js';
import { parseSftpConfig, SftpConfigSchema } from './sftp-config.js';

/** A folder on an SFTP server. Its SSH client (ssh2) loads when the first SFTP connection opens. */
export const sftpConnectorType: ConnectorType = {
  type: 'sftp',
  title: 'Folder on an SFTP server',
  configSchema: SftpConfigSchema,
  secretFields: ['password', 'privateKey', 'passphrase'],
  async create(config, ctx) {
    const parsed = parseSftpConfig(config);
    const { SftpConnector } = await import('./sftp-connector.js');
    return new SftpConnector(parsed, ctx.formats);
  },
};
