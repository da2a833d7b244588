package replicationtest

// The defaults a fresh Syncthing v1.30.0 has (GET /rest/config/defaults/folder and
// /rest/config/defaults/device after `syncthing generate --no-default-folder`), less the own
// device, which the server adds.
const defaultFolderJSON = `{
  "id": "", "label": "", "filesystemType": "basic", "path": "", "type": "sendreceive",
  "devices": [], "rescanIntervalS": 3600, "fsWatcherEnabled": true, "fsWatcherDelayS": 10,
  "fsWatcherTimeoutS": 0, "ignorePerms": false, "autoNormalize": true,
  "minDiskFree": {"value": 1, "unit": "%"},
  "versioning": {"type": "", "params": {}, "cleanupIntervalS": 3600, "fsPath": "", "fsType": "basic"},
  "copiers": 0, "pullerMaxPendingKiB": 0, "hashers": 0, "order": "random", "ignoreDelete": false,
  "scanProgressIntervalS": 0, "pullerPauseS": 0, "maxConflicts": 10, "disableSparseFiles": false,
  "disableTempIndexes": false, "paused": false, "weakHashThresholdPct": 25, "markerName": ".stfolder",
  "copyOwnershipFromParent": false, "modTimeWindowS": 0, "maxConcurrentWrites": 2, "disableFsync": false,
  "blockPullOrder": "standard", "copyRangeMethod": "standard", "caseSensitiveFS": false,
  "junctionsAsDirs": false, "syncOwnership": false, "sendOwnership": false, "syncXattrs": false,
  "sendXattrs": false, "xattrFilter": {"entries": [], "maxSingleEntrySize": 1024, "maxTotalSize": 4096}
}`

const defaultDeviceJSON = `{
  "deviceID": "", "name": "", "addresses": ["dynamic"], "compression": "metadata", "certName": "",
  "introducer": false, "skipIntroductionRemovals": false, "introducedBy": "", "paused": false,
  "allowedNetworks": [], "autoAcceptFolders": false, "maxSendKbps": 0, "maxRecvKbps": 0,
  "ignoredFolders": [], "maxRequestKiB": 0, "untrusted": false, "remoteGUIPort": 0, "numConnections": 0
}`

// defaultOptionsJSON is a subset of the options, as the harness configures a real instance.
const defaultOptionsJSON = `{
  "listenAddresses": ["tcp://127.0.0.1:22000"], "globalAnnounceServers": ["default"],
  "globalAnnounceEnabled": false, "localAnnounceEnabled": false, "localAnnouncePort": 21027,
  "maxSendKbps": 0, "maxRecvKbps": 0, "reconnectionIntervalS": 60, "relaysEnabled": false,
  "startBrowser": false, "natEnabled": false, "urAccepted": -1, "autoUpgradeIntervalH": 0,
  "crashReportingEnabled": false, "keepTemporariesH": 24, "maxFolderConcurrency": 0
}`
