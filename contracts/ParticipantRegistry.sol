// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl, IAccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {AccessControlEnumerable} from "@openzeppelin/contracts/access/extensions/AccessControlEnumerable.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title ParticipantRegistry
/// @notice The roster of core enterprises, suppliers, banks, regulators and oracles, with their status.
/// @dev DESK is bound once, at deployment, to the desk contracts (`bindDesks`) and never granted by
///      `grantRole`: see docs/contracts.md, "Desks are bound at deployment".
///      Roles are OpenZeppelin AccessControl roles; every grant or revoke of a participant role is mirrored
///      into a bitmask beside the status, so that the token's transfer check costs one SLOAD per account.
///      The mirror is written only in `_grantRole`/`_revokeRole`, the single mutation path for roles.
contract ParticipantRegistry is AccessControlEnumerable, IParticipantRegistry {
    mapping(address account => Participant) private _participants;
    mapping(bytes32 legalIdHash => address account) private _accountByLegalId;
    bool private _desksBound;

    /// @param admin The operator account that onboards participants and grants roles.
    constructor(address admin) {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IParticipantRegistry
    /// @dev Roles must be participant roles (see `Roles.bitOf`); infrastructure roles use `grantRole`.
    function register(address account, bytes32 legalIdHash, bytes32[] calldata roles)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (account == address(0)) revert ZeroAddress();
        if (legalIdHash == bytes32(0)) revert InvalidLegalIdHash();
        Participant storage p = _participants[account];
        if (p.status != Status.None) revert AlreadyRegistered(account);
        address holder = _accountByLegalId[legalIdHash];
        if (holder != address(0)) revert LegalIdAlreadyRegistered(legalIdHash, holder);

        p.legalIdHash = legalIdHash;
        p.status = Status.Active;
        _accountByLegalId[legalIdHash] = account;
        emit ParticipantRegistered(account, legalIdHash);
        emit ParticipantStatusChanged(account, Status.None, Status.Active);
        for (uint256 i = 0; i < roles.length; ++i) {
            if (Roles.bitOf(roles[i]) == 0) revert NotAParticipantRole(roles[i]);
            _grantRole(roles[i], account);
        }
    }

    /// @inheritdoc IParticipantRegistry
    function bindDesks(address[] calldata desks) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_desksBound) revert DesksAlreadyBound();
        if (desks.length == 0) revert NoDesks();
        _desksBound = true;
        for (uint256 i = 0; i < desks.length; ++i) {
            if (desks[i].code.length == 0) revert DeskNotAContract(desks[i]);
            _grantRole(Roles.DESK, desks[i]);
        }
        emit DesksBound(desks);
    }

    /// @inheritdoc IParticipantRegistry
    function desksBound() external view returns (bool) {
        return _desksBound;
    }

    /// @inheritdoc IParticipantRegistry
    function setStatus(address account, Status status) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (status == Status.None) revert InvalidStatus(status);
        Participant storage p = _participants[account];
        Status previous = p.status;
        if (previous == Status.None) revert NotRegistered(account);
        if (previous == status) revert InvalidStatus(status);
        p.status = status;
        emit ParticipantStatusChanged(account, previous, status);
    }

    /// @inheritdoc IParticipantRegistry
    function participant(address account) external view returns (Participant memory) {
        return _participants[account];
    }

    /// @inheritdoc IParticipantRegistry
    function accountOf(bytes32 legalIdHash) external view returns (address) {
        return _accountByLegalId[legalIdHash];
    }

    /// @inheritdoc IParticipantRegistry
    function isActive(address account) external view returns (bool) {
        return _participants[account].status == Status.Active;
    }

    /// @inheritdoc IParticipantRegistry
    function checkHolders(address from, address to) external view {
        _checkHolder(from);
        if (to != from) _checkHolder(to);
    }

    /// @inheritdoc IParticipantRegistry
    function checkActiveRole(address account, bytes32 role) external view {
        Participant storage p = _participants[account];
        if (p.status != Status.Active) revert ParticipantNotActive(account);
        uint8 bit = Roles.bitOf(role);
        bool has = bit == 0 ? hasRole(role, account) : p.roleBits & bit != 0;
        if (!has) revert MissingRole(account, role);
    }

    function _checkHolder(address account) private view {
        Participant storage p = _participants[account];
        if (p.status != Status.Active) revert ParticipantNotActive(account);
        if (p.roleBits & Roles.HOLDER_BITS == 0) revert NotAHolder(account);
    }

    /// @notice Grants `role` to `account`; DESK is refused here: only `bindDesks` grants it.
    /// @dev An admin key alone must not be able to turn a wallet into a desk, which moves anyone's tokens.
    function grantRole(bytes32 role, address account) public override(AccessControl, IAccessControl) {
        if (role == Roles.DESK) revert DeskGrantOutsideBinding(account);
        super.grantRole(role, account);
    }

    /// @dev Participant roles can only go to registered accounts; the bit mirror follows every grant.
    function _grantRole(bytes32 role, address account) internal override returns (bool granted) {
        uint8 bit = Roles.bitOf(role);
        if (bit != 0 && _participants[account].status == Status.None) revert NotRegistered(account);
        granted = super._grantRole(role, account);
        if (granted && bit != 0) _participants[account].roleBits |= bit;
    }

    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        uint8 bit = Roles.bitOf(role);
        if (revoked && bit != 0) _participants[account].roleBits &= ~bit;
    }
}
